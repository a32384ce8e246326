import { join } from 'node:path';
import { RSS_METHOD } from '../child.js';
import {
  addFigure,
  type BenchContext,
  freshDir,
  generateData,
  type MaterializeRun,
  MB,
  materialize,
  s3Uri,
  seconds,
} from '../context.js';
import { absoluteRow } from '../summary.js';

const S = 'memory';
const GOAL_FILE_BYTES = 2 * 1024 * MB;

/**
 * Section 4: peak RSS of the `materialize` child while it ingests ONE large file from the local S3,
 * with the DuckDB memory limit stated. Default and tiny modes use a small file and say so; `--scale 50`
 * gives a ~2.3 GB file.
 */
export async function memory(ctx: BenchContext): Promise<void> {
  const { rows } = ctx.sizes.memory;
  const source = s3Uri(ctx, 'big');
  ctx.log(`[${S}] generating one file of ${rows.toLocaleString('en-US')} rows into ${source} (untimed)`);
  await generateData(ctx, { to: source, from: 1, through: 1, rowsPerDay: rows });

  const runs: MaterializeRun[] = [];
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    const dir = await freshDir(ctx, 'big');
    runs.push(
      await materialize(ctx, { source, home: join(dir, 'home'), warehouse: join(dir, 'billing.duckdb') }),
    );
    const last = runs.at(-1) as MaterializeRun;
    ctx.log(
      `[${S}] rep ${rep}: ${seconds(last.child.wallMs).toFixed(1)} s, peak RSS ${((last.child.peakRss ?? 0) / MB).toFixed(0)} MB`,
    );
  }
  await freshDir(ctx, 'big');

  const bytes = runs[0]?.split.bytes ?? 0;
  const scaled = bytes < GOAL_FILE_BYTES;
  const sizeNote = `${(bytes / MB).toFixed(0)} MB file, ${rows.toLocaleString('en-US')} rows, DuckDB memory_limit ${ctx.options.memoryLimit}${scaled ? '; SCALED DOWN: the goal is for a 2 GB file, use --scale 50' : ''}`;
  const peaks = runs.map((r) => (r.child.peakRss ?? Number.NaN) / MB);
  addFigure(ctx, S, 'materialize one large file: peak RSS', 'MB', peaks, sizeNote);
  addFigure(
    ctx,
    S,
    'materialize one large file: wall',
    's',
    runs.map((r) => seconds(r.child.wallMs)),
  );
  addFigure(
    ctx,
    S,
    'materialize one large file: rows/s',
    'rows/s',
    runs.map((r) => r.split.rows / seconds(r.child.wallMs)),
  );
  addFigure(
    ctx,
    S,
    'part: download+parse+validate',
    's',
    runs.map((r) => seconds(r.split.parseMs)),
  );
  addFigure(
    ctx,
    S,
    'part: insert',
    's',
    runs.map((r) => seconds(r.split.insertMs)),
  );
  addFigure(
    ctx,
    S,
    'part: ledger/other (incl. CHECKPOINT)',
    's',
    runs.map((r) => seconds(r.split.otherMs)),
  );

  ctx.summary.push(
    absoluteRow({
      order: 7,
      measure: `peak RSS, one ${(bytes / MB).toFixed(0)} MB file${scaled ? ' (SCALED DOWN; --scale 50: 2.3 GB)' : ''}`,
      value: Math.max(...peaks),
      unit: 'MB',
      limit: 1024,
      reference: `DuckDB memory_limit ${ctx.options.memoryLimit}`,
      note: `${sizeNote}; worst of ${runs.length} rep(s); measured with ${RSS_METHOD}`,
    }),
  );
  ctx.details.memory = {
    rows,
    fileBytes: bytes,
    scaledDown: scaled,
    memoryLimit: ctx.options.memoryLimit,
    rssMethod: RSS_METHOD,
    peakRssBytes: runs.map((r) => r.child.peakRss),
    runs: runs.map(({ split: { assets: _a, ...rest } }) => rest),
  };
}
