import { existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addFigure,
  type BenchContext,
  day,
  freshDir,
  generateData,
  type MaterializeRun,
  materialize,
  s3Uri,
  seconds,
} from '../context.js';
import { AGGREGATE_COUNT, type PhaseSplit } from '../ledger.js';
import { dayGlob, type RawResult, runRaw } from '../raw.js';
import { median } from '../stats.js';
import { ratioRow, type SummaryRow } from '../summary.js';

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
  // The raw reference reads the same days (same seed, same bytes) from a folder.
  const folder = join(base, 'source');
  const rawDb = join(base, 'raw.duckdb');
  const gen = async (from: number, through: number, to = source) => {
    await generateData(ctx, { to, from, through, rowsPerDay, filesPerDay });
    if (timed && to === source)
      await generateData(ctx, { to: folder, from, through, rowsPerDay, filesPerDay });
  };
  ctx.log(
    `[${S}] history: ${rowsPerDay.toLocaleString('en-US')} rows/day in ${filesPerDay} files/day, points ${points.join('/')} days`,
  );

  let loaded = 0;
  const adds = new Map<number, MaterializeRun[]>();
  const rawAdds = new Map<number, RawResult[]>();
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
    // The raw warehouse with the same history, built from scratch by the full-load reference (untimed).
    await rm(rawDb, { force: true });
    await rm(`${rawDb}.wal`, { force: true });
    await runRaw(ctx, { db: rawDb, glob: join(folder, '**', '*.csv'), scratch: base });
    await gen(point + 1, point + 1);
    const snapshot = join(base, `history-${point}.duckdb`);
    await copyWarehouse(warehouse, snapshot);
    const runs: MaterializeRun[] = [];
    const raws: RawResult[] = [];
    const copy = join(base, 'rep.duckdb');
    const rawCopy = join(base, 'raw-rep.duckdb');
    for (let rep = 1; rep <= ctx.options.reps; rep++) {
      await copyWarehouse(snapshot, copy);
      runs.push(await materialize(ctx, { source, home, warehouse: copy }));
      await copyWarehouse(rawDb, rawCopy);
      raws.push(
        await runRaw(ctx, {
          db: rawCopy,
          glob: dayGlob(folder, day(point + 1)),
          scratch: base,
          append: true,
        }),
      );
    }
    const [p0, r0] = [runs[0]?.split, raws[0]];
    if (p0 && r0 && p0.rows !== rowsPerDay)
      ctx.log(`[${S}] WARNING: the pipeline loaded ${p0.rows} rows, not ${rowsPerDay}`);
    if (r0 && r0.rows !== (point + 1) * rowsPerDay)
      ctx.log(`[${S}] WARNING: the raw warehouse holds ${r0.rows} events, not ${(point + 1) * rowsPerDay}`);
    // The last copy holds the history plus the new day: it becomes the growing warehouse, so the next
    // point's history is contiguous without paying another materialize.
    await copyWarehouse(copy, warehouse);
    for (const f of [copy, snapshot, rawCopy]) {
      await rm(f, { force: true });
      await rm(`${f}.wal`, { force: true });
    }
    adds.set(point, runs);
    rawAdds.set(point, raws);
    ctx.log(
      `[${S}] +1 day on ${point} days: ${runs.map((r) => `${seconds(r.child.wallMs).toFixed(2)} s`).join(', ')}; raw ${raws.map((r) => `${seconds(r.wallMs).toFixed(2)} s`).join(', ')}`,
    );
    loaded = point + 1;
  }
  await rm(rawDb, { force: true });
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

  report(ctx, adds, rawAdds, alone, rowsPerDay, filesPerDay);
  ctx.details.incremental = {
    rowsPerDay,
    filesPerDay,
    builds,
    addOneDay: Object.fromEntries([...adds].map(([p, runs]) => [p, runs.map((r) => stripAssets(r.split))])),
    rawAddOneDay: Object.fromEntries(rawAdds),
    addOneDayAssetsAtLastPoint: adds.get(points.at(-1) ?? 0)?.[0]?.split.assets,
    dayAlone: alone.map((r) => stripAssets(r.split)),
  };
  return { source, home, warehouse, days: loaded, files };
}

function report(
  ctx: BenchContext,
  adds: Map<number, MaterializeRun[]>,
  rawAdds: Map<number, RawResult[]>,
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
  for (const [point, raws] of rawAdds) {
    addFigure(
      ctx,
      S,
      `raw DuckDB +1 day with ${point} days loaded: wall`,
      's',
      raws.map((r) => seconds(r.wallMs)),
    );
    addFigure(
      ctx,
      S,
      `ratio pipeline / raw, +1 day at ${point}`,
      'x',
      (adds.get(point) ?? []).map((r, i) => r.child.wallMs / ((raws[i] ?? raws[0]) as RawResult).wallMs),
    );
    const ms = (pick: (r: RawResult) => number) => median(raws.map((r) => pick(r) / 1000)).toFixed(2);
    addFigure(
      ctx,
      S,
      `raw +1 day at ${point}: aggregates (touched groups)`,
      's',
      raws.map((r) => seconds(r.aggregatesMs)),
      `read_csv+insert ${ms((r) => r.loadMs)} s, insights+checkpoint ${ms((r) => r.insightsMs + r.checkpointMs)} s`,
    );
  }
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

  const rawWall = (p: number) => (rawAdds.get(p) ?? []).map((r) => seconds(r.wallMs));
  const dayRows = `${rowsPerDay.toLocaleString('en-US')} rows`;
  const rows: SummaryRow[] = [];
  const compared = [...new Set([points[0], points.at(-1)])].filter((p): p is number => p !== undefined);
  compared.forEach((p, i) => {
    rows.push(
      ratioRow({
        order: 2 + i / 10,
        measure: `one more day (${dayRows}) on top of ${p} days`,
        pipeline: wall(adds.get(p) ?? []),
        reference: rawWall(p),
        referenceLabel: 'raw DuckDB doing that day',
        limit: 1.5,
      }),
    );
  });
  if (points.length > 1) {
    const [p0, p1] = [points[0] as number, points.at(-1) as number];
    const rawCurve = rawWall(p1).map((r, i) => r / (rawWall(p0)[i] ?? Number.NaN));
    const row = ratioRow({
      order: 3,
      measure: `the same day's cost as history grows: ${p1} vs ${p0} days loaded`,
      pipeline: wall(last),
      reference: wall(first),
      referenceLabel: `at ${p0} (raw DuckDB: ${median(rawCurve).toFixed(2)}x)`,
      limit: 1.15,
      note: `the day alone into an empty warehouse: ${median(wall(alone)).toFixed(2)} s; pipeline/day alone at ${points.at(-1)} days: ${median(ratios).toFixed(2)}x`,
    });
    rows.push({ ...row, pipeline: `${row.pipeline} at ${p1}` });
  }
  ctx.summary.push(...rows);
}

const stripAssets = ({ assets: _assets, ...rest }: PhaseSplit) => rest;
