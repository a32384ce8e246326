import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFxRates } from '../src/billing/fx/fx-generator.js';
import type { LocalS3 } from '../src/dev/local-s3.js';
import { type ChildResult, runCli, runIdOf } from './child.js';
import { type PhaseSplit, readRun, splitPhases } from './ledger.js';
import type { BenchOptions, BenchSizes } from './options.js';
import { type Figure, figure, type Goal } from './stats.js';
import type { SummaryRow } from './summary.js';

/** What every section gets: options, the local S3, a scratch folder and the places to put its results. */
export interface BenchContext {
  options: BenchOptions;
  sizes: BenchSizes;
  s3: LocalS3;
  bucket: string;
  /** FX rates covering every day a section generates: without them non-USD events fail a check. */
  fxRates: string;
  figures: Figure[];
  goals: Goal[];
  /** Issue 12's table, one row per measure, printed side by side at the end (bench/summary.ts). */
  summary: SummaryRow[];
  /** Per-section raw facts (samples, phase splits, data sizes) for the JSON file. */
  details: Record<string, unknown>;
  log(message: string): void;
}

export const SEED = 7;
const FIRST_DAY = Date.UTC(2025, 0, 1);

/** `YYYY-MM-DD` of the n-th day (1-based) of the synthetic calendar. */
export function day(n: number): string {
  return new Date(FIRST_DAY + (n - 1) * 86_400_000).toISOString().slice(0, 10);
}

/** A fresh (emptied) folder under the work folder. */
export async function freshDir(ctx: BenchContext, ...parts: string[]): Promise<string> {
  const dir = join(ctx.options.workDir, ...parts);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export function s3Uri(ctx: BenchContext, prefix: string): string {
  return `s3://${ctx.bucket}/${prefix}/`;
}

/** Environment for a CLI child: the local S3 credentials, and the memory limit under test. */
export function cliEnv(ctx: BenchContext, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...ctx.s3.env,
    BILLING_DUCKDB_MEMORY_LIMIT: ctx.options.memoryLimit,
    BILLING_FX_SOURCE: ctx.fxRates,
    ...extra,
  };
}

export interface GenerateSpec {
  to: string;
  from: number;
  through: number;
  rowsPerDay: number;
  filesPerDay?: number;
  gzip?: boolean;
}

/** `billing-pipeline generate …`; deterministic for a seed, so a folder and a bucket get the same bytes. */
export function generateData(ctx: BenchContext, spec: GenerateSpec): Promise<ChildResult> {
  const args = ['generate', '--to', spec.to, '--from', day(spec.from), '--to', day(spec.through)];
  args.push('--rows-per-day', String(spec.rowsPerDay), '--seed', String(SEED));
  args.push('--files-per-day', String(spec.filesPerDay ?? 1));
  if (spec.gzip) args.push('--gzip');
  return runCli(args, { env: cliEnv(ctx) });
}

export interface MaterializeRun {
  child: ChildResult;
  runId: string;
  split: PhaseSplit;
}

/**
 * One timed `billing-pipeline materialize` from a source into a warehouse, then its phase split read
 * back from the warehouse's own ledger.
 */
export async function materialize(
  ctx: BenchContext,
  spec: { source: string; home: string; warehouse: string; nodeArgs?: readonly string[] },
): Promise<MaterializeRun> {
  const child = await runCli(['materialize'], {
    env: cliEnv(ctx, {
      BILLING_SOURCE: spec.source,
      BILLING_HOME: spec.home,
      BILLING_WAREHOUSE: spec.warehouse,
    }),
    nodeArgs: spec.nodeArgs,
  });
  const runId = runIdOf(child);
  const split = splitPhases(child.wallMs, await readRun(spec.warehouse, runId));
  return { child, runId, split };
}

/** One FX file for the whole bench, from a month before day 1 to years after any section's last day. */
export async function writeFxRates(path: string): Promise<string> {
  await writeFile(path, generateFxRates({ from: '2024-12-01', to: '2028-12-31', seed: SEED }));
  return path;
}

/** Adds min/median/max figures to the context and returns them. */
export function addFigure(
  ctx: BenchContext,
  section: string,
  name: string,
  unit: string,
  samples: readonly number[],
  note?: string,
): Figure {
  const f = figure(section, name, unit, samples, note);
  ctx.figures.push(f);
  return f;
}

export const MB = 1024 * 1024;
export const seconds = (ms: number): number => ms / 1000;
