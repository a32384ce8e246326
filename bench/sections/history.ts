import { existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addFigure,
  type BenchContext,
  freshDir,
  generateData,
  type MaterializeRun,
  materialize,
  s3Uri,
  seconds,
} from '../context.js';
import { AGGREGATE_COUNT, type PhaseSplit } from '../ledger.js';
import { judge, median } from '../stats.js';

const S = 'incremental';

/** A warehouse holding `days` days of history from `source`, left for the re-run section. */
export interface History {
  source: string;
  home: string;
  warehouse: string;
  days: number;
  files: number;
}

async function copyWarehouse(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  await rm(`${to}.wal`, { force: true });
  await copyFile(from, to);
  // The CLI checkpoints on close, so there should be no WAL; copy one if there is, or the copy is older.
  if (existsSync(`${from}.wal`)) await copyFile(`${from}.wal`, `${to}.wal`);
}

/**
 * Section 2 (and the set-up of section 3): one bucket prefix grows a day at a time. At each history
 * point P (30, 60, 90 days) the warehouse is snapshotted, day P+1 is added to the bucket, and each
 * repetition times `materialize` on a fresh copy of the snapshot: the cost of one more day with P days
 * already loaded. The baseline loads the same day's files (same seed, same bytes) into an empty warehouse.
 * With `timed` false only the history is built (for `--only rerun`).
 */
export async function buildHistory(ctx: BenchContext, timed: boolean): Promise<History> {
  const { points, rowsPerDay, filesPerDay } = ctx.sizes.history;
  const source = s3Uri(ctx, 'hist');
  const base = await freshDir(ctx, 'hist');
  const home = join(base, 'home');
  const warehouse = join(base, 'billing.duckdb');
  const gen = (from: number, through: number, to = source) =>
    generateData(ctx, { to, from, through, rowsPerDay, filesPerDay });
  ctx.log(
    `[${S}] history: ${rowsPerDay.toLocaleString('en-US')} rows/day in ${filesPerDay} files/day, points ${points.join('/')} days`,
  );

  let loaded = 0;
  const adds = new Map<number, MaterializeRun[]>();
  const builds: { through: number; wallMs: number }[] = [];
  for (const point of points) {
    if (point > loaded) {
      await gen(loaded + 1, point);
      const build = await materialize(ctx, { source, home, warehouse });
      builds.push({ through: point, wallMs: build.child.wallMs });
      ctx.log(
        `[${S}] loaded days ${loaded + 1}..${point} (untimed build: ${seconds(build.child.wallMs).toFixed(1)} s)`,
      );
      loaded = point;
    }
    if (!timed) continue;
    await gen(point + 1, point + 1);
    const snapshot = join(base, `history-${point}.duckdb`);
    await copyWarehouse(warehouse, snapshot);
    const runs: MaterializeRun[] = [];
    const copy = join(base, 'rep.duckdb');
    for (let rep = 1; rep <= ctx.options.reps; rep++) {
      await copyWarehouse(snapshot, copy);
      runs.push(await materialize(ctx, { source, home, warehouse: copy }));
    }
    // The last copy holds the history plus the new day: it becomes the growing warehouse, so the next
    // point's history is contiguous without paying another materialize.
    await copyWarehouse(copy, warehouse);
    await rm(copy, { force: true });
    await rm(snapshot, { force: true });
    adds.set(point, runs);
    ctx.log(
      `[${S}] +1 day on ${point} days: ${runs.map((r) => `${seconds(r.child.wallMs).toFixed(2)} s`).join(', ')}`,
    );
    loaded = point + 1;
  }
  const files = loaded * filesPerDay;
  if (!timed) return { source, home, warehouse, days: loaded, files };

  const newDay = (points.at(-1) ?? 0) + 1;
  const alone: MaterializeRun[] = [];
  await gen(newDay, newDay, s3Uri(ctx, 'oneday'));
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    const dir = await freshDir(ctx, 'hist-oneday');
    alone.push(
      await materialize(ctx, {
        source: s3Uri(ctx, 'oneday'),
        home: join(dir, 'home'),
        warehouse: join(dir, 'billing.duckdb'),
      }),
    );
  }
  ctx.log(
    `[${S}] that day alone into an empty warehouse: ${alone.map((r) => `${seconds(r.child.wallMs).toFixed(2)} s`).join(', ')}`,
  );

  report(ctx, adds, alone, rowsPerDay, filesPerDay);
  ctx.details.incremental = {
    rowsPerDay,
    filesPerDay,
    builds,
    addOneDay: Object.fromEntries([...adds].map(([p, runs]) => [p, runs.map((r) => stripAssets(r.split))])),
    addOneDayAssetsAtLastPoint: adds.get(points.at(-1) ?? 0)?.[0]?.split.assets,
    dayAlone: alone.map((r) => stripAssets(r.split)),
  };
  return { source, home, warehouse, days: loaded, files };
}

function report(
  ctx: BenchContext,
  adds: Map<number, MaterializeRun[]>,
  alone: MaterializeRun[],
  rowsPerDay: number,
  filesPerDay: number,
): void {
  const wall = (runs: readonly MaterializeRun[]) => runs.map((r) => seconds(r.child.wallMs));
  const dayNote = `${rowsPerDay.toLocaleString('en-US')} rows in ${filesPerDay} files`;
  for (const [point, runs] of adds)
    addFigure(
      ctx,
      S,
      `+1 day with ${point} days loaded: wall`,
      's',
      wall(runs),
      point === [...adds.keys()][0] ? dayNote : undefined,
    );
  addFigure(ctx, S, 'that day alone into an empty warehouse: wall', 's', wall(alone));
  const points = [...adds.keys()];
  const last = adds.get(points.at(-1) ?? 0) ?? [];
  const first = adds.get(points[0] ?? 0) ?? [];
  // Per-rep pairs, like the full load: rep i of the add against rep i of the baseline.
  const ratios = last.map((r, i) => r.child.wallMs / ((alone[i] ?? alone[0]) as MaterializeRun).child.wallMs);
  addFigure(ctx, S, `ratio (+1 day at ${points.at(-1)} days) / (day alone)`, 'x', ratios);
  if (points.length > 1) {
    addFigure(
      ctx,
      S,
      `curve: (+1 day at ${points.at(-1)}) / (+1 day at ${points[0]})`,
      'x',
      last.map((r, i) => r.child.wallMs / ((first[i] ?? first[0]) as MaterializeRun).child.wallMs),
      '1.0 = flat',
    );
  }
  const part = (name: string, pick: (p: PhaseSplit) => number) => {
    for (const [point, runs] of adds)
      addFigure(
        ctx,
        S,
        `+1 day at ${point}: ${name}`,
        's',
        runs.map((r) => seconds(pick(r.split))),
      );
    addFigure(
      ctx,
      S,
      `day alone: ${name}`,
      's',
      alone.map((r) => seconds(pick(r.split))),
    );
  };
  part('list + inventory', (p) => p.listMs + p.inventoryMs);
  part('billing_events', (p) => p.eventsMs);
  part(`${AGGREGATE_COUNT} aggregates`, (p) => p.aggregatesMs);
  part('ledger/other', (p) => p.otherMs + p.insightsMs);
  const userAgg = (r: MaterializeRun) =>
    r.split.assets.find((a) => a.asset === 'user_aggregates')?.durationMs ?? 0;
  for (const [point, runs] of adds)
    addFigure(
      ctx,
      S,
      `+1 day at ${point}: user_aggregates alone`,
      's',
      runs.map((r) => seconds(userAgg(r))),
    );

  const curve = points.map((p) => `${p}d ${median(wall(adds.get(p) ?? [])).toFixed(2)} s`).join(', ');
  ctx.goals.push(
    judge(
      `incremental +1 day at ${points.at(-1)} days <= 1.5x that day alone`,
      median(ratios),
      1.5,
      'x',
      true,
      `curve: ${curve}; day alone ${median(wall(alone)).toFixed(2)} s`,
    ),
  );
}

const stripAssets = ({ assets: _assets, ...rest }: PhaseSplit) => rest;
