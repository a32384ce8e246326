/**
 * Where the time goes: runs `materialize` three times on one warehouse (a first load of D-1 days, one
 * more day, then a no-op re-run), each in bench/profile-child.ts under `node --cpu-prof`, and writes
 * per stage (the run's assets, from its ledger, plus start-up and close):
 * - the stage's wall time from the ledger,
 * - the main thread's CPU profile split by stage (samples mapped to assets by time) with the top
 *   functions by self time,
 * - every DuckDB statement's time, and for the heaviest ones DuckDB's own profile (the operator tree
 *   EXPLAIN ANALYZE prints: the aggregate merges, the inventory diff, the event insert).
 * DuckDB works on its own threads: on the main thread its time shows as `(idle)`, which is why the
 * statement timers sit beside the CPU profile.
 *
 * usage: node dist/bench/profile.js [--rows N] [--days N] [--files-per-day N] [--top N] [--work DIR] [--keep]
 * writes bench/results/profile-latest.json and bench/results/profile-latest.txt
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchScript, runCli, runNode } from './child.js';
import { writeFxRates } from './context.js';
import { type AssetTiming, readRun, splitPhases } from './ledger.js';
import type { StatementRecord } from './profile-child.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Entry {
  name: string;
  ms: number;
}
interface Stage {
  stage: string;
  /** Ledger wall time (assets) or the measured gap (start-up, close). */
  wallMs: number;
  /** Main-thread samples in the stage, and those not idle. */
  cpuMs: number;
  busyMs: number;
  functions: Entry[];
  statements: { count: number; ms: number; top: StatementRecord[] };
}

const BENCH_ROOT = fileURLToPath(new URL('../../bench/', import.meta.url));
const IDLE = new Set(['(idle)', '(program)', '(root)']);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
}

const frameName = (frame: ProfileNode['callFrame']) => {
  const where = frame.url ? frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/') : '';
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
};

/** Stage windows in epoch ms: before the first asset, each asset, gaps between them, and after. */
function windows(assets: readonly AssetTiming[], endMs: number) {
  const sorted = [...assets].sort((a, b) => a.startedAtMs - b.startedAtMs);
  return {
    sorted,
    stageAt(t: number): string {
      const first = sorted[0];
      if (!first || t < first.startedAtMs) return 'start-up (node, imports, DuckDB open, schema)';
      for (const a of sorted) if (t >= a.startedAtMs && t < a.startedAtMs + a.durationMs) return a.asset;
      const last = sorted.at(-1) as AssetTiming;
      if (t >= last.startedAtMs + last.durationMs && t <= endMs) return 'close (ledger end, CHECKPOINT)';
      return 'between assets (checks, ledger)';
    },
  };
}

async function profiled(
  label: string,
  dir: string,
  env: Record<string, string>,
  warehouse: string,
  top: number,
) {
  const profDir = join(dir, `prof-${label.replaceAll(/\W+/g, '-')}`);
  await rm(profDir, { recursive: true, force: true });
  await mkdir(profDir, { recursive: true });
  const statementsFile = join(profDir, 'statements.json');
  const spawnedEpoch = Date.now();
  const child = await runNode(benchScript('profile-child.js'), [statementsFile, 'materialize'], {
    env,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  const endEpoch = spawnedEpoch + child.wallMs;
  const runId = /^run (\S+) /m.exec(child.stdout)?.[1] ?? '';
  const assets = await readRun(warehouse, runId);
  const split = splitPhases(child.wallMs, assets);
  const [name] = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(await readFile(join(profDir, name as string), 'utf8')) as CpuProfile;
  const { clock, statements } = JSON.parse(await readFile(statementsFile, 'utf8')) as {
    clock: { monotonicUs: number; epochMs: number };
    statements: StatementRecord[];
  };
  const w = windows(assets, endEpoch);
  const toEpoch = (us: number) => (us - clock.monotonicUs) / 1000 + clock.epochMs;

  const stages = new Map<
    string,
    { cpu: number; busy: number; fn: Map<string, number>; st: StatementRecord[] }
  >();
  const stageOf = (s: string) => {
    let v = stages.get(s);
    if (!v) {
      v = { cpu: 0, busy: 0, fn: new Map(), st: [] };
      stages.set(s, v);
    }
    return v;
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const frame = byId.get(id)?.callFrame;
    const s = stageOf(w.stageAt(toEpoch(t)));
    s.cpu += delta / 1000;
    if (!frame || IDLE.has(frame.functionName)) return;
    s.busy += delta / 1000;
    const n = frameName(frame);
    s.fn.set(n, (s.fn.get(n) ?? 0) + delta / 1000);
  });
  for (const st of statements) stageOf(w.stageAt(st.startEpochMs)).st.push(st);

  const first = w.sorted[0];
  const last = w.sorted.at(-1);
  const wallOf = (stage: string): number => {
    const asset = assets.find((a) => a.asset === stage);
    if (asset) return asset.durationMs;
    if (stage.startsWith('start-up')) return first ? first.startedAtMs - spawnedEpoch : child.wallMs;
    if (stage.startsWith('close')) return last ? endEpoch - (last.startedAtMs + last.durationMs) : 0;
    return Math.max(
      0,
      child.wallMs - assets.reduce((n, a) => n + a.durationMs, 0) - wallOf('start-up') - wallOf('close'),
    );
  };
  const order = ['start-up (node, imports, DuckDB open, schema)', ...w.sorted.map((a) => a.asset)];
  const names = [...new Set([...order, ...stages.keys()])];
  const result: Stage[] = names.map((stage) => {
    const s = stages.get(stage) ?? { cpu: 0, busy: 0, fn: new Map(), st: [] };
    return {
      stage,
      wallMs: Math.round(wallOf(stage)),
      cpuMs: Math.round(s.cpu),
      busyMs: Math.round(s.busy),
      functions: [...s.fn]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([n, ms]) => ({ name: n, ms: Math.round(ms) })),
      statements: {
        count: s.st.length,
        ms: Math.round(s.st.reduce((n, x) => n + x.ms, 0)),
        top: [...s.st]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 3)
          .map(roundStatement),
      },
    };
  });
  const { assets: _a, ...phases } = split;
  return {
    label,
    wallMs: Math.round(child.wallMs),
    peakRss: child.peakRss,
    phases,
    stages: result,
    heaviestStatements: [...statements]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12)
      .map(roundStatement),
    cpuprofile: join(profDir, name as string),
  };
}

const roundStatement = (s: StatementRecord): StatementRecord => ({ ...s, ms: Math.round(s.ms * 10) / 10 });
const oneLine = (sql: string, n = 150) => sql.replace(/\s+/g, ' ').trim().slice(0, n);

function render(runs: Awaited<ReturnType<typeof profiled>>[], header: string): string {
  const lines = [header];
  for (const run of runs) {
    lines.push(
      '',
      `=== ${run.label}: wall ${(run.wallMs / 1000).toFixed(2)} s, peak RSS ${((run.peakRss ?? 0) / 2 ** 20).toFixed(0)} MB`,
    );
    lines.push(
      'stage                                           wall ms  share  main-thread busy ms  DuckDB stmts (n, ms)',
    );
    for (const s of run.stages) {
      if (s.wallMs === 0 && s.cpuMs === 0 && s.statements.count === 0) continue;
      lines.push(
        `${s.stage.padEnd(46)} ${String(s.wallMs).padStart(8)}  ${((s.wallMs / run.wallMs) * 100).toFixed(0).padStart(4)}%  ${String(s.busyMs).padStart(19)}  ${s.statements.count} / ${s.statements.ms}`,
      );
    }
    for (const s of run.stages) {
      if (s.functions.length === 0 && s.statements.top.length === 0) continue;
      lines.push('', `-- ${s.stage}`);
      for (const f of s.functions.slice(0, 5)) lines.push(`   cpu ${String(f.ms).padStart(6)} ms  ${f.name}`);
      for (const st of s.statements.top)
        lines.push(`   sql ${String(st.ms).padStart(6)} ms  ${oneLine(st.sql)}`);
    }
    lines.push('', 'heaviest DuckDB statements, with the top operators of their profile (EXPLAIN ANALYZE):');
    for (const st of run.heaviestStatements.slice(0, 8)) {
      lines.push(`   ${String(st.ms).padStart(7)} ms  ${oneLine(st.sql, 200)}`);
      for (const op of st.plan?.operators.slice(0, 4) ?? [])
        lines.push(
          `              ${String(op.ms).padStart(7)} ms  ${op.operator} (${op.rows} rows)${op.extra ? `  ${op.extra.slice(0, 110)}` : ''}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const rows = arg('--rows', 600_000);
  const days = arg('--days', 6);
  const filesPerDay = arg('--files-per-day', 2);
  const top = arg('--top', 10);
  if (days < 2) throw new Error('--days needs at least 2 (a first load, then one more day)');
  const workAt = process.argv.indexOf('--work');
  const dir = workAt >= 0 ? resolve(process.argv[workAt + 1] ?? '') : join(BENCH_ROOT, '.work', 'profile');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const source = join(dir, 'source');
  const perDay = Math.ceil(rows / days);
  const iso = (d: number) => new Date(Date.UTC(2025, 0, d)).toISOString().slice(0, 10);
  const generate = (from: number, through: number) =>
    runCli([
      'generate',
      '--to',
      source,
      '--from',
      iso(from),
      '--to',
      iso(through),
      '--rows-per-day',
      String(perDay),
      '--files-per-day',
      String(filesPerDay),
      '--seed',
      '7',
    ]);
  const warehouse = join(dir, 'billing.duckdb');
  const env = {
    BILLING_SOURCE: source,
    BILLING_HOME: join(dir, 'home'),
    BILLING_WAREHOUSE: warehouse,
    BILLING_FX_SOURCE: await writeFxRates(join(dir, 'fx-rates.csv')),
  };
  await generate(1, days - 1);
  const load = await profiled(`first load (${days - 1} days)`, dir, env, warehouse, top);
  await generate(days, days);
  const more = await profiled(`one more day on ${days - 1} days`, dir, env, warehouse, top);
  const noop = await profiled('no-op re-run', dir, env, warehouse, top);
  const header = `billing-pipeline profile — ${new Date().toISOString()} — ${(perDay * days).toLocaleString('en-US')} rows, ${days} days x ${filesPerDay} files (${perDay.toLocaleString('en-US')} rows/day), folder source`;
  const runs = [load, more, noop];
  const results = join(BENCH_ROOT, 'results');
  await mkdir(results, { recursive: true });
  await writeFile(
    join(results, 'profile-latest.json'),
    `${JSON.stringify({ at: new Date().toISOString(), rows: perDay * days, days, filesPerDay, runs }, null, 2)}\n`,
  );
  const text = render(runs, header);
  await writeFile(join(results, 'profile-latest.txt'), text);
  process.stdout.write(text);
  process.stdout.write(
    `\n.cpuprofile files in ${dir}/prof-*; summary in ${results}/profile-latest.{json,txt}\n`,
  );
  if (!process.argv.includes('--keep')) await rm(source, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `profile: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
