import { benchScript, CLI, runCli, runNode } from '../child.js';
import {
  addFigure,
  type BenchContext,
  cliEnv,
  generateData,
  type MaterializeRun,
  materialize,
  seconds,
} from '../context.js';
import type { PhaseSplit } from '../ledger.js';
import { median } from '../stats.js';
import { absoluteRow, ratioRow } from '../summary.js';
import type { History } from './history.js';

const S = 'no-op re-run';
/** A cheap SELECT for `billing-pipeline query` and its reference. */
const QUERY = 'SELECT count(*) AS days FROM daily_aggregates';

/**
 * Section 3: `materialize` with nothing new, on the warehouse the history section left, first grown to
 * `sizes.rerun.days` days (the issue's 365 days x 4 files) with tiny files: the no-op cost is per file.
 * References split the fixed cost a user pays on every scheduled run: a bare `node -e 0`, node + the
 * S3 client + one listing of the same prefix, the CLI's module graph (`--help`), and `query` against
 * node + DuckDB opening the same file.
 */
export async function rerun(ctx: BenchContext, history: History): Promise<void> {
  let { days, files } = history;
  const { filesPerDay } = ctx.sizes.history;
  const target = ctx.sizes.rerun.days;
  if (target > days) {
    ctx.log(`[${S}] growing the history to ${target} days x ${filesPerDay} files (tiny files, untimed)`);
    await generateData(ctx, {
      to: history.source,
      from: days + 1,
      through: target,
      rowsPerDay: ctx.sizes.rerun.rowsPerDay,
      filesPerDay,
    });
    const build = await materialize(ctx, {
      source: history.source,
      home: history.home,
      warehouse: history.warehouse,
    });
    ctx.log(`[${S}] loaded days ${days + 1}..${target} (${seconds(build.child.wallMs).toFixed(1)} s)`);
    files += (target - days) * filesPerDay;
    days = target;
  }
  const runs: MaterializeRun[] = [];
  const bare: number[] = [];
  const listing: number[] = [];
  const help: number[] = [];
  const query: number[] = [];
  const openQuery: number[] = [];
  const queryEnv = cliEnv(ctx, { BILLING_HOME: history.home, BILLING_WAREHOUSE: history.warehouse });
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    runs.push(
      await materialize(ctx, { source: history.source, home: history.home, warehouse: history.warehouse }),
    );
    bare.push((await runNode('-e', ['0'])).wallMs);
    listing.push(
      (
        await runNode(
          benchScript('download.js'),
          [JSON.stringify({ source: history.source, listOnly: true })],
          {
            env: ctx.s3.env,
          },
        )
      ).wallMs,
    );
    help.push((await runNode(CLI, ['--help'])).wallMs);
    query.push((await runCli(['query', QUERY], { env: queryEnv })).wallMs);
    openQuery.push(
      (await runNode(benchScript('open-query.js'), [JSON.stringify({ db: history.warehouse, sql: QUERY })]))
        .wallMs,
    );
  }
  const changed = runs.flatMap((r) => r.split.assets.filter((a) => a.changed).map((a) => a.asset));
  if (changed.length > 0) ctx.log(`[${S}] WARNING: a no-op run changed ${[...new Set(changed)].join(', ')}`);
  ctx.log(`[${S}] ${runs.map((r) => `${seconds(r.child.wallMs).toFixed(2)} s`).join(', ')}`);

  const part = (name: string, pick: (p: PhaseSplit) => number, note?: string) =>
    addFigure(
      ctx,
      S,
      name,
      's',
      runs.map((r) => seconds(pick(r.split))),
      note,
    );
  part('materialize, nothing new: wall', (p) => p.wallMs, `${days} days, ${files} files, S3`);
  part('part: list source (S3)', (p) => p.listMs);
  part('part: inventory diff', (p) => p.inventoryMs);
  part('part: other assets (up to date)', (p) => p.eventsMs + p.aggregatesMs + p.insightsMs);
  part('part: ledger/other', (p) => p.otherMs, 'node start, imports, DuckDB open+setup, ledger, CHECKPOINT');
  addFigure(ctx, S, 'ref: bare `node -e 0`', 's', bare.map(seconds));
  addFigure(ctx, S, 'ref: node + S3 client + one listing', 's', listing.map(seconds), `${files} files`);
  addFigure(ctx, S, 'ref: `billing-pipeline --help` (imports)', 's', help.map(seconds));
  addFigure(ctx, S, '`billing-pipeline query` (cheap SELECT)', 's', query.map(seconds), QUERY);
  addFigure(ctx, S, 'ref: node + DuckDB open + the same SELECT', 's', openQuery.map(seconds));

  const wall = runs.map((r) => seconds(r.child.wallMs));
  const overListing = median(wall.map((w, i) => w / seconds(listing[i] as number)));
  ctx.summary.push(
    absoluteRow({
      order: 4,
      measure: `no-op rerun, ${days} days x ${filesPerDay} files (${files} files, S3)`,
      value: median(wall),
      unit: 's',
      limit: 0.5,
      reference: `${median(listing.map(seconds)).toFixed(2)} s node + S3 listing (${overListing.toFixed(2)}x); bare node ${median(bare.map(seconds)).toFixed(2)} s`,
      note: days >= 365 ? undefined : `SCALED DOWN: ${files} files; the goal names 365 days x 4 files`,
    }),
    ratioRow({
      order: 5,
      measure: '`billing-pipeline --help` vs bare `node -e 0`',
      pipeline: help.map(seconds),
      reference: bare.map(seconds),
      referenceLabel: 'bare node',
      limit: 2,
    }),
    ratioRow({
      order: 6,
      measure: '`billing-pipeline query` (cheap SELECT) vs node + DuckDB open',
      pipeline: query.map(seconds),
      reference: openQuery.map(seconds),
      referenceLabel: 'node + DuckDB open + SELECT',
      limit: 2,
      note: "the issue names no figure for query; the bench holds it to --help's 2x",
    }),
  );
  ctx.details.rerun = {
    days,
    files,
    runs: runs.map((r) => stripAssets(r.split)),
    bareNodeMs: bare,
    listingMs: listing,
    helpMs: help,
    queryMs: query,
    openQueryMs: openQuery,
  };
}

const stripAssets = ({ assets: _assets, ...rest }: PhaseSplit) => rest;
