import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import {
  createDatabase,
  type PostgresServer,
  postgresBinDir,
  startPostgres,
} from '../../src/dev/postgres-server.js';
import { type ChildResult, CLI, runCli } from '../child.js';
import { addFigure, type BenchContext, cliEnv, freshDir, generateData, s3Uri, seconds } from '../context.js';
import { median } from '../stats.js';

const S = 'scale-out';
const PREFIX = 'scale-out';
const WORKER_START_TIMEOUT_MS = 60_000;
const WORKER_STOP_TIMEOUT_MS = 30_000;

interface Sample {
  variant: string;
  wallMs: number;
  rows: number;
  /** Queued to started, ms, of the run job (taken by an idle worker: pure pickup latency). */
  pickupMs?: number;
}

/** pg-boss's own created_on/started_on of the run's coordinator job, on the database's clock. */
const PICKUP_SQL = `SELECT extract(epoch FROM started_on - created_on) * 1000 AS ms
  FROM billing_queue.job WHERE name = 'runs' AND started_on IS NOT NULL ORDER BY created_on LIMIT 1`;

async function runPickupMs(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ ms: string }>(PICKUP_SQL);
    return rows[0] ? Number(rows[0].ms) : undefined;
  } finally {
    await client.end();
  }
}

/** `run ID success, N row(s) loaded` from `materialize`. */
function rowsLoaded(child: ChildResult): number {
  const match = /^run \S+ success, (\d+) row\(s\) loaded/m.exec(child.stdout);
  if (!match?.[1]) throw new Error(`[${S}] materialize did not succeed: ${child.stdout.slice(0, 500)}`);
  return Number(match[1]);
}

interface WorkerChild {
  stop(): Promise<void>;
}

/** `billing-pipeline worker --concurrency 1` in a child; resolves once it prints "worker started". */
async function startWorker(env: Record<string, string>, label: string): Promise<WorkerChild> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'worker', '--concurrency', '1'], {
    // As in runNode: a caller's NODE_OPTIONS must not change what is measured.
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`[${S}] ${label} did not start in ${WORKER_START_TIMEOUT_MS} ms:\n${output}`));
    }, WORKER_START_TIMEOUT_MS);
    const onData = (s: string) => {
      output += s;
      if (output.includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`[${S}] ${label} exited with ${code} during startup:\n${output.slice(-2000)}`));
    });
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * One full `materialize` of the section's data in scale-out mode: a fresh database, `workers`
 * worker children, then the timed `materialize` child, which queues the run and waits for it.
 */
async function scaleOutRun(
  ctx: BenchContext,
  server: PostgresServer,
  source: string,
  workers: number,
  rep: number,
): Promise<Sample> {
  const variant = `${workers} worker${workers === 1 ? '' : 's'}`;
  const db = await createDatabase(server, `bench_${workers}w`);
  const home = await freshDir(ctx, 'scale-out', `pg-${workers}-${rep}`);
  const env = cliEnv(ctx, {
    BILLING_SOURCE: source,
    BILLING_HOME: home,
    BILLING_DATABASE_URL: db.url,
    BILLING_QUEUE_MAINTENANCE_INTERVAL: '1',
  });
  const children: WorkerChild[] = [];
  try {
    // The first worker creates the queue's schema; the others start together once it exists.
    children.push(await startWorker(env, `${variant}: worker 1`));
    children.push(
      ...(await Promise.all(
        Array.from({ length: workers - 1 }, (_, i) => startWorker(env, `${variant}: worker ${i + 2}`)),
      )),
    );
    const child = await runCli(['materialize'], { env });
    const pickupMs = await runPickupMs(db.url).catch(() => undefined);
    return { variant, wallMs: child.wallMs, rows: rowsLoaded(child), pickupMs };
  } finally {
    await Promise.all(children.map((w) => w.stop()));
    await db.drop();
  }
}

async function embeddedRun(ctx: BenchContext, source: string, rep: number): Promise<Sample> {
  const home = await freshDir(ctx, 'scale-out', `embedded-${rep}`);
  const child = await runCli(['materialize'], {
    env: cliEnv(ctx, {
      BILLING_SOURCE: source,
      BILLING_HOME: home,
      BILLING_WAREHOUSE: join(home, 'warehouse.duckdb'),
    }),
  });
  return { variant: 'embedded DuckDB', wallMs: child.wallMs, rows: rowsLoaded(child) };
}

/**
 * Section 7: the same data materialized by the embedded DuckDB CLI and by 1, 2 and 4 scale-out
 * workers (`worker --concurrency 1`, each its own process) on one PostgreSQL started from Debian's
 * binaries. Every variant gets a fresh database (or warehouse); variants run interleaved per
 * repetition so machine noise hits them alike.
 */
export async function scaleOut(ctx: BenchContext): Promise<void> {
  const { days, rowsPerDay, filesPerDay, workers } = ctx.sizes.scaleOut;
  if (!postgresBinDir() && !process.env.BILLING_TEST_POSTGRES_URL) {
    const why = 'skipped: no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)';
    ctx.log(`[${S}] ${why}`);
    addFigure(ctx, S, 'scale-out section', '-', [], why);
    ctx.details.scaleOut = { skipped: why };
    return;
  }
  const source = s3Uri(ctx, PREFIX);
  const files = days * filesPerDay;
  ctx.log(
    `[${S}] generating ${days} day(s) x ${rowsPerDay.toLocaleString('en-US')} rows in ${filesPerDay} file(s)/day into ${source} (untimed)`,
  );
  await generateData(ctx, { to: source, from: 1, through: days, rowsPerDay, filesPerDay });
  ctx.log(`[${S}] starting PostgreSQL`);
  const server = await startPostgres();
  const reps: Sample[][] = [];
  try {
    for (let rep = 1; rep <= ctx.options.reps; rep++) {
      const samples = [await embeddedRun(ctx, source, rep)];
      for (const n of workers) samples.push(await scaleOutRun(ctx, server, source, n, rep));
      ctx.log(
        `[${S}] rep ${rep}: ${samples.map((s) => `${s.variant} ${seconds(s.wallMs).toFixed(2)} s`).join(', ')}`,
      );
      const counts = new Set(samples.map((s) => s.rows));
      if (counts.size !== 1)
        ctx.log(`[${S}] WARNING: variants loaded different row counts: ${[...counts].join(', ')}`);
      reps.push(samples);
    }
  } finally {
    await server.stop();
  }

  const variants = reps[0]?.map((s) => s.variant) ?? [];
  const of = (variant: string) => reps.map((r) => r.find((s) => s.variant === variant) as Sample);
  const rows = reps[0]?.[0]?.rows ?? 0;
  const note = `${rows.toLocaleString('en-US')} rows, ${files} files`;
  for (const variant of variants) {
    const samples = of(variant);
    addFigure(
      ctx,
      S,
      `${variant}: wall`,
      's',
      samples.map((s) => seconds(s.wallMs)),
      'materialize child, spawn to exit',
    );
    addFigure(
      ctx,
      S,
      `${variant}: rows/s`,
      'rows/s',
      samples.map((s) => s.rows / seconds(s.wallMs)),
      note,
    );
  }
  // Throughput ratios per repetition (same rows on both sides, so the inverse of the wall ratio).
  const ratio = (a: string, b: string) =>
    reps.map((_, i) => (of(b)[i] as Sample).wallMs / (of(a)[i] as Sample).wallMs);
  const one = '1 worker';
  for (const n of workers.filter((w) => w !== 1)) {
    addFigure(ctx, S, `ratio ${n} workers vs 1 (rows/s)`, 'x', ratio(`${n} workers`, one), `ideal ${n}.0x`);
  }
  addFigure(
    ctx,
    S,
    'ratio embedded vs 1 worker (rows/s)',
    'x',
    ratio('embedded DuckDB', one),
    '> 1: embedded is faster',
  );
  const pickups = reps.flat().flatMap((s) => (s.pickupMs === undefined ? [] : [s.pickupMs]));
  addFigure(
    ctx,
    S,
    'pickup latency of a queued run (idle workers)',
    'ms',
    pickups,
    'pg-boss created_on to started_on; LISTEN/NOTIFY wake-up, poll 0.5 s fallback',
  );
  ctx.details.scaleOut = {
    days,
    rowsPerDay,
    filesPerDay,
    files,
    rows,
    workers,
    medianWallSeconds: Object.fromEntries(
      variants.map((v) => [v, median(of(v).map((s) => seconds(s.wallMs)))]),
    ),
    samples: reps,
  };
}
