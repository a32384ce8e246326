import { join } from 'node:path';
import { benchScript, runNode } from '../child.js';
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
import { AGGREGATE_COUNT, type PhaseSplit } from '../ledger.js';
import { type RawResult, runRaw } from '../raw.js';
import { median } from '../stats.js';
import { ratioRow } from '../summary.js';

const S = 'full load';

interface DownloadResult {
  wallMs: number;
  files: number;
  bytes: number;
  listMs: number;
  downloadMs: number;
}

/** "1.50" and "1.5" are the same amount: DECIMAL text may or may not keep trailing zeros. */
const sameDecimal = (a: string | null, b: string | null) =>
  a !== null &&
  b !== null &&
  a.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') === b.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

/**
 * Section 1: a first `materialize` of D days from the local S3 into an empty warehouse, against raw
 * DuckDB SQL doing the same tables from the same files on local disk. The pipeline also runs from a
 * folder, which tells how much of the gap is the (local, single-process) S3 server.
 */
export async function fullLoad(ctx: BenchContext): Promise<void> {
  const { days, rowsPerDay } = ctx.sizes.full;
  const rows = days * rowsPerDay;
  const bucketPrefix = s3Uri(ctx, 'full');
  ctx.log(
    `[${S}] generating ${days} day(s) x ${rowsPerDay.toLocaleString('en-US')} rows into ${bucketPrefix} and a folder (untimed)`,
  );
  const folder = await freshDir(ctx, 'full', 'source');
  await generateData(ctx, { to: bucketPrefix, from: 1, through: days, rowsPerDay });
  await generateData(ctx, { to: folder, from: 1, through: days, rowsPerDay });

  const viaS3: MaterializeRun[] = [];
  const viaFolder: MaterializeRun[] = [];
  const raws: RawResult[] = [];
  const downloads: DownloadResult[] = [];
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    // Interleaved, so a noisy moment of the machine hits every variant of the same repetition.
    let home = await freshDir(ctx, 'full', 'run');
    viaS3.push(
      await materialize(ctx, { source: bucketPrefix, home, warehouse: join(home, 'billing.duckdb') }),
    );
    home = await freshDir(ctx, 'full', 'run');
    viaFolder.push(await materialize(ctx, { source: folder, home, warehouse: join(home, 'billing.duckdb') }));
    home = await freshDir(ctx, 'full', 'run');
    raws.push(
      await runRaw(ctx, { db: join(home, 'raw.duckdb'), glob: join(folder, '**', '*.csv'), scratch: home }),
    );
    const dl = await runNode(
      benchScript('download.js'),
      [JSON.stringify({ source: bucketPrefix, concurrency: 2 })],
      { env: ctx.s3.env },
    );
    downloads.push({ wallMs: dl.wallMs, ...(JSON.parse(dl.stdout) as Omit<DownloadResult, 'wallMs'>) });
    await freshDir(ctx, 'full', 'run');
    const last = (xs: { wallMs: number }[]) =>
      `${seconds((xs.at(-1) as { wallMs: number }).wallMs).toFixed(1)} s`;
    ctx.log(
      `[${S}] rep ${rep}/${ctx.options.reps}: pipeline(s3) ${last(viaS3.map((r) => r.split))}, pipeline(folder) ${last(viaFolder.map((r) => r.split))}, raw ${last(raws)}`,
    );
  }

  // The comparison is only meaningful if both sides computed the same thing.
  const check = viaS3[0]?.split;
  const ref = raws[0];
  const consistent =
    check !== undefined &&
    ref !== undefined &&
    check.rows === ref.rows &&
    sameDecimal(check.spend, ref.spend);
  if (!consistent) {
    ctx.log(
      `[${S}] WARNING: pipeline and raw disagree: rows ${check?.rows} vs ${ref?.rows}, normalized spend ${check?.spend} vs ${ref?.spend}`,
    );
  }

  const wall = (xs: readonly { wallMs: number }[]) => xs.map((x) => seconds(x.wallMs));
  const s3 = viaS3.map((r) => r.split);
  const local = viaFolder.map((r) => r.split);
  const ratios = s3.map((p, i) => p.wallMs / (raws[i] as RawResult).wallMs);
  const folderRatios = local.map((p, i) => p.wallMs / (raws[i] as RawResult).wallMs);
  const rowsNote = `${rows.toLocaleString('en-US')} rows, ${days} file(s)`;
  addFigure(ctx, S, 'pipeline materialize, S3 source: wall', 's', wall(s3), rowsNote);
  addFigure(ctx, S, 'pipeline materialize, folder source: wall', 's', wall(local));
  addFigure(ctx, S, 'raw DuckDB reference: wall', 's', wall(raws));
  addFigure(ctx, S, 'ratio pipeline(S3) / raw', 'x', ratios);
  addFigure(ctx, S, 'ratio pipeline(folder) / raw', 'x', folderRatios);
  addParts(ctx, 'pipeline(S3) ', s3);
  addFigure(
    ctx,
    S,
    'raw part: read_csv + insert',
    's',
    raws.map((r) => seconds(r.loadMs)),
  );
  addFigure(
    ctx,
    S,
    `raw part: ${AGGREGATE_COUNT} aggregates`,
    's',
    raws.map((r) => seconds(r.aggregatesMs)),
  );
  addFigure(
    ctx,
    S,
    'raw part: insights + checkpoint',
    's',
    raws.map((r) => seconds(r.insightsMs + r.checkpointMs)),
  );
  addFigure(
    ctx,
    S,
    'raw part: node start + open + close',
    's',
    raws.map((r) => seconds(r.wallMs - r.loadMs - r.aggregatesMs - r.insightsMs - r.checkpointMs)),
  );
  addFigure(
    ctx,
    S,
    'S3 list + download only (2 streams, no parse)',
    's',
    downloads.map((d) => seconds(d.listMs + d.downloadMs)),
  );
  addFigure(
    ctx,
    S,
    'pipeline(S3) rows/s',
    'rows/s',
    s3.map((p) => p.rows / seconds(p.wallMs)),
  );
  addFigure(
    ctx,
    S,
    'pipeline(folder) rows/s',
    'rows/s',
    local.map((p) => p.rows / seconds(p.wallMs)),
  );
  addFigure(
    ctx,
    S,
    'raw rows/s',
    'rows/s',
    raws.map((r) => r.rows / seconds(r.wallMs)),
  );
  addFigure(
    ctx,
    S,
    'pipeline(S3) peak RSS',
    'MB',
    viaS3.map((r) => (r.child.peakRss ?? Number.NaN) / MB),
  );
  addFigure(
    ctx,
    S,
    'raw peak RSS',
    'MB',
    raws.map((r) => (r.peakRss ?? Number.NaN) / MB),
  );

  const folderMedian = median(folderRatios);
  ctx.summary.push(
    ratioRow({
      order: 1,
      measure: `full load, ${rows.toLocaleString('en-US')} rows over ${days} days (S3 source)`,
      pipeline: wall(s3),
      reference: wall(raws),
      referenceLabel: 'raw DuckDB',
      ratios,
      limit: 1.2,
      note: `from a folder instead of the local S3: ${folderMedian.toFixed(2)}x${consistent ? '' : '; WARNING: results differ from raw'}`,
    }),
  );
  ctx.details.fullLoad = {
    days,
    rowsPerDay,
    rows,
    consistentWithRaw: consistent,
    pipelineS3: s3.map(stripAssets),
    pipelineFolder: local.map(stripAssets),
    pipelineS3Assets: s3[0]?.assets,
    raw: raws,
    download: downloads,
  };
}

/** The ledger's split of the pipeline's wall time, one figure per part. */
function addParts(ctx: BenchContext, label: string, runs: readonly PhaseSplit[]): void {
  const part = (name: string, pick: (p: PhaseSplit) => number, note?: string) =>
    addFigure(
      ctx,
      S,
      `${label}part: ${name}`,
      's',
      runs.map((p) => seconds(pick(p))),
      note,
    );
  part('list source', (p) => p.listMs);
  part('inventory diff (billing_files)', (p) => p.inventoryMs);
  part('billing_events (wall)', (p) => p.eventsMs);
  part('  download+parse+validate', (p) => p.parseMs, 'sum over 2 concurrent files');
  part('  insert (per-file txns)', (p) => p.insertMs, 'sum, serialized');
  part(`${AGGREGATE_COUNT} aggregates`, (p) => p.aggregatesMs);
  part('insights', (p) => p.insightsMs);
  part('ledger/other', (p) => p.otherMs, 'node start, DuckDB open, checks, ledger, CHECKPOINT');
}

const stripAssets = ({ assets: _assets, ...rest }: PhaseSplit) => rest;
