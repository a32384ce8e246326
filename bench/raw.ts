import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { benchScript, runNode } from './child.js';
import type { BenchContext } from './context.js';

/** What one raw-duckdb.js child reports, with its wall time and peak RSS. */
export interface RawResult {
  wallMs: number;
  peakRss: number | null;
  loadMs: number;
  aggregatesMs: number;
  insightsMs: number;
  checkpointMs: number;
  rows: number;
  /** The normalized total (reporting currency) of the same insights SQL; null when unknown. */
  spend: string | null;
}

/**
 * The raw DuckDB reference as a child `node` (bench/raw-duckdb.ts): a full build of `db` from the CSV
 * files of `glob`, or with `append` one more day's files added to an existing raw warehouse.
 */
export async function runRaw(
  ctx: BenchContext,
  spec: { db: string; glob: string; scratch: string; append?: boolean },
): Promise<RawResult> {
  const raw = await runNode(benchScript('raw-duckdb.js'), [
    JSON.stringify({
      db: spec.db,
      glob: spec.glob,
      memoryLimit: ctx.options.memoryLimit,
      threads: availableParallelism(),
      tempDirectory: join(spec.scratch, 'tmp'),
      fx: ctx.fxRates,
      append: spec.append ?? false,
    }),
  ]);
  return {
    wallMs: raw.wallMs,
    peakRss: raw.peakRss,
    ...(JSON.parse(raw.stdout) as Omit<RawResult, 'wallMs' | 'peakRss'>),
  };
}

/** The generator's hive layout: the files of one day (`YYYY-MM-DD`) under a folder. */
export const dayGlob = (folder: string, isoDay: string): string => {
  const [y, m, d] = isoDay.split('-');
  return join(folder, `year=${y}`, `month=${m}`, `day=${d}`, '*.csv');
};
