import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/sources/s3-client.js';
import {
  addFigure,
  type BenchContext,
  cliEnv,
  day,
  freshDir,
  generateData,
  s3Uri,
  seconds,
} from '../context.js';
import { type DaemonChild, startDaemonChild } from '../daemon.js';
import { judge, median } from '../stats.js';

const S = 'automation';
const PREFIX = 'automation';
const SENSOR = 's3_partition_sensor';
const POLL_MS = 20;
const WAIT_MS = 120_000;

/** DuckDB TIMESTAMPs come back as ISO UTC text, sometimes with microseconds; ms is enough here. */
const ms = (iso: unknown): number => Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1'));

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`[${S}] timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

interface Freshness {
  day: string;
  putMs: number;
  /** PUT done → the day's row in daily_aggregates counts every event of the file. */
  freshMs: number;
  /**
   * From the ledger: PUT done → run queued by the sensor, queued → started, started →
   * daily_aggregates done (the run goes on with the other aggregates and insights).
   */
  detectMs: number;
  queuedMs: number;
  runMs: number;
  /** The whole run, for reference: what a user waits for until every table is fresh. */
  wholeRunMs: number;
}

/**
 * Section 6: the daemon as a user runs it (`billing-pipeline serve`, compiled, in a child) with the
 * S3 sensor ticking every second. Freshness is timed from an S3 PUT (through the SDK, like any
 * uploader) to the new day's events showing in `daily_aggregates`, read through the daemon's SQL
 * endpoint; the ledger splits it. Run start and backfill submission go through its HTTP API.
 */
export async function automation(ctx: BenchContext): Promise<void> {
  const { rows, freshnessReps, runStarts, backfillDays } = ctx.sizes.automation;
  const source = s3Uri(ctx, PREFIX);
  const folder = await freshDir(ctx, 'automation', 'files');
  const home = await freshDir(ctx, 'automation', 'home');
  ctx.log(`[${S}] generating ${freshnessReps + 1} day(s) x ${rows.toLocaleString('en-US')} rows (untimed)`);
  await generateData(ctx, { to: folder, from: 1, through: freshnessReps + 1, rowsPerDay: rows });
  const keys = await filesBelow(folder);

  const client = createS3Client(ctx.s3.env);
  const spawned = performance.now();
  const daemon = await startDaemonChild(
    cliEnv(ctx, {
      BILLING_SOURCE: source,
      BILLING_HOME: home,
      BILLING_S3_SENSOR_INTERVAL: '1',
    }),
  );
  const startMs = performance.now() - spawned;
  try {
    await daemon.api('POST', `/api/sensors/${SENSOR}/start`);
    const put = async (n: number) => {
      const [y, m, d] = day(n).split('-');
      for (const key of keys.filter((k) => k.startsWith(`year=${y}/month=${m}/day=${d}/`))) {
        const body = await readFile(join(folder, key));
        await client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: `${PREFIX}/${key}`, Body: body }));
      }
    };
    const total = async () =>
      Number(
        (
          await daemon.sql<{ n: number }>('SELECT coalesce(sum(event_count), 0) AS n FROM daily_aggregates')
        )[0]?.n ?? 0,
      );
    // daily_aggregates changes in one transaction per run: any growth means the whole file is in.
    const reflected = async (n: number) => {
      const before = await total();
      return async () => {
        await until(`${day(n)} in daily_aggregates`, async () =>
          (await total()) > before ? true : undefined,
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}; daemon output:\n${daemon.output().slice(-3000)}`);
        });
      };
    };

    // Warm-up (untimed): the first load creates the tables and warms the daemon's code paths.
    const warm = await reflected(1);
    await put(1);
    await warm();
    // Each measurement starts with an idle queue: the tail of a run (insights) must not delay the next.
    await idle(daemon);

    const fresh: Freshness[] = [];
    for (let rep = 1; rep <= freshnessReps; rep++) {
      const n = rep + 1;
      // Waiting for an idle queue lines every PUT up with the same point of the sensor's 1 s cycle;
      // offsets spread evenly over the interval sample every phase instead of one.
      await new Promise((resolve) => setTimeout(resolve, ((rep - 1) / freshnessReps) * 1000));
      const wait = await reflected(n);
      const t0 = performance.now();
      await put(n);
      const putDone = performance.now();
      const putDoneWall = Date.now();
      await wait();
      const seen = performance.now();
      await idle(daemon);
      const [run] = await daemon.sql<Record<string, unknown>>(
        `SELECT r.created_at, r.started_at, r.finished_at, a.finished_at AS daily_at
         FROM runs r JOIN asset_runs a ON a.run_id = r.run_id AND a.asset = 'daily_aggregates'
         WHERE r.trigger LIKE 'sensor:%' ORDER BY r.created_at DESC LIMIT 1`,
      );
      fresh.push({
        day: day(n),
        putMs: putDone - t0,
        freshMs: seen - putDone,
        detectMs: ms(run?.created_at) - putDoneWall,
        queuedMs: ms(run?.started_at) - ms(run?.created_at),
        runMs: ms(run?.daily_at) - ms(run?.started_at),
        wholeRunMs: ms(run?.finished_at) - ms(run?.started_at),
      });
      ctx.log(`[${S}] freshness ${day(n)}: ${seconds(seen - putDone).toFixed(2)} s`);
    }

    const starts = await timeRunStarts(daemon, runStarts);
    const backfills = await timeBackfills(ctx, daemon, backfillDays);

    const note = `${rows.toLocaleString('en-US')}-row file, sensor every 1 s`;
    const sec = (pick: (f: Freshness) => number) => fresh.map((f) => seconds(pick(f)));
    const figures: [string, string, number[], string?][] = [
      ['freshness: S3 PUT -> daily_aggregates', 's', sec((f) => f.freshMs), note],
      ['part: PUT -> run queued (sensor tick)', 's', sec((f) => f.detectMs)],
      ['part: queued -> started', 's', sec((f) => f.queuedMs)],
      [
        'part: started -> daily_aggregates done',
        's',
        sec((f) => f.runMs),
        'billing_files, fx_rates, billing_events',
      ],
      ['ref: whole run (all assets)', 's', sec((f) => f.wholeRunMs)],
      ['ref: the S3 PUT itself', 's', sec((f) => f.putMs)],
      ['run start: queued -> first asset code', 'ms', starts.map((s) => s.overheadMs), 'from the ledger'],
      ['run start: POST /api/runs -> first asset code', 'ms', starts.map((s) => s.clientMs)],
      [
        `backfill of ${backfillDays} partitions: submit`,
        's',
        backfills.map((b) => seconds(b.submitMs)),
        'POST /api/backfills until 202',
      ],
      ['ref: serve start -> listening', 's', [seconds(startMs)], 'node start, imports, DuckDB open'],
    ];
    for (const [name, unit, samples, why] of figures) addFigure(ctx, S, name, unit, samples, why);

    ctx.goals.push(
      judge(`freshness < 2 s median (${note})`, median(fresh.map((f) => seconds(f.freshMs))), 2, 's', false),
      judge(
        'run start (queued -> first asset code) < 100 ms median',
        median(starts.map((s) => s.overheadMs)),
        100,
        'ms',
        false,
      ),
      judge(
        `backfill of ${backfillDays} partitions submitted < 1 s median`,
        median(backfills.map((b) => seconds(b.submitMs))),
        1,
        's',
        false,
      ),
    );
    ctx.details.automation = { rows, startMs, freshness: fresh, runStarts: starts, backfills };
  } finally {
    client.destroy();
    await daemon.stop();
  }
}

/** Resolves once no run is queued or running. */
const idle = (daemon: DaemonChild) =>
  until('the run queue to drain', async () => {
    const [row] = await daemon.sql<{ n: number }>(
      "SELECT count(*) AS n FROM runs WHERE status IN ('queued', 'running')",
    );
    return Number(row?.n) === 0 ? true : undefined;
  });

interface RunStart {
  overheadMs: number;
  clientMs: number;
}

/** Whole-graph runs with nothing new: only the way to the first asset is of interest. */
async function timeRunStarts(daemon: DaemonChild, count: number): Promise<RunStart[]> {
  const out: RunStart[] = [];
  for (let i = 0; i < count; i++) {
    await idle(daemon);
    const sent = Date.now();
    const { runId } = await daemon.api<{ runId: string }>('POST', '/api/runs', {});
    await until(`run ${runId}`, async () => {
      const { run } = await daemon.api<{ run: { status: string } }>('GET', `/api/runs/${runId}`);
      return ['success', 'failed', 'canceled'].includes(run.status) ? true : undefined;
    });
    const [row] = await daemon.sql<Record<string, unknown>>(
      `SELECT r.created_at, min(a.started_at) AS first_asset
       FROM runs r JOIN asset_runs a ON a.run_id = r.run_id WHERE r.run_id = $1 GROUP BY r.created_at`,
      [runId],
    );
    out.push({
      overheadMs: ms(row?.first_asset) - ms(row?.created_at),
      clientMs: ms(row?.first_asset) - sent,
    });
  }
  return out;
}

interface BackfillTiming {
  submitMs: number;
  partitions: number;
  canceled: number;
}

/** Submits a year-long backfill, then cancels it: the submission is what is measured, not the runs. */
async function timeBackfills(
  ctx: BenchContext,
  daemon: DaemonChild,
  days: number,
): Promise<BackfillTiming[]> {
  const out: BackfillTiming[] = [];
  const from = '2024-01-01';
  const to = new Date(Date.parse(`${from}T00:00:00Z`) + (days - 1) * 86_400_000).toISOString().slice(0, 10);
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    await idle(daemon);
    const t0 = performance.now();
    const { backfillId } = await daemon.api<{ backfillId: string }>('POST', '/api/backfills', { from, to });
    const submitMs = performance.now() - t0;
    const { runs_canceled } = await daemon.api<{ runs_canceled: number }>(
      'POST',
      `/api/backfills/${backfillId}/cancel`,
    );
    const detail = await until(`backfill ${backfillId} to stop`, async () => {
      const d = await daemon.api<{ backfill: { status: string; partitions_total: number } }>(
        'GET',
        `/api/backfills/${backfillId}`,
      );
      return d.backfill.status === 'queued' || d.backfill.status === 'running' ? undefined : d;
    });
    out.push({ submitMs, partitions: detail.backfill.partitions_total, canceled: runs_canceled });
    ctx.log(
      `[${S}] backfill ${rep}: ${detail.backfill.partitions_total} partitions in ${seconds(submitMs).toFixed(3)} s`,
    );
  }
  return out;
}
