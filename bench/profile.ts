/**
 * Where the CLI's main thread spends its time: runs `materialize` (a first load, then a no-op re-run)
 * under `node --cpu-prof` and prints the top functions and files by self time. DuckDB's own work runs
 * on its worker threads and shows up here only as the main thread waiting ("(idle)"/"(program)"),
 * so read it next to the ledger's parse/insert split that `npm run bench` prints.
 *
 * usage: node dist/bench/profile.js [--rows N] [--days N] [--top N] [--keep]
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './child.js';
import { writeFxRates } from './context.js';
import { readRun, splitPhases } from './ledger.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
interface Entry {
  name: string;
  ms: number;
  share: number;
}

const BENCH_ROOT = fileURLToPath(new URL('../../bench/', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
}

/** Self time per function and per file; node:internal frames keep their module so streams and zlib show. */
function summarize(profile: CpuProfile, top: number): { total: number; functions: Entry[]; files: Entry[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/') : '';
    const name = `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + delta);
    const f = where || frame.functionName;
    file.set(f, (file.get(f) ?? 0) + delta);
  });
  const rank = (m: Map<string, number>): Entry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: ms / total }));
  return { total: Math.round(total), functions: rank(fn), files: rank(file) };
}

async function profiled(
  label: string,
  dir: string,
  env: Record<string, string>,
  warehouse: string,
  top: number,
) {
  const profDir = join(dir, `prof-${label}`);
  await rm(profDir, { recursive: true, force: true });
  const child = await runCli(['materialize'], { env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const runId = /^run (\S+) /m.exec(child.stdout)?.[1] ?? '';
  const split = splitPhases(child.wallMs, await readRun(warehouse, runId));
  const [name] = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(await readFile(join(profDir, name as string), 'utf8')) as CpuProfile;
  const summary = summarize(profile, top);
  const print = (title: string, entries: Entry[]) => {
    process.stdout.write(`\n${title}\n`);
    for (const e of entries)
      process.stdout.write(
        `  ${String(e.ms).padStart(7)} ms ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}\n`,
      );
  };
  process.stdout.write(
    `\n=== ${label}: wall ${(child.wallMs / 1000).toFixed(2)} s, main-thread profile ${(summary.total / 1000).toFixed(2)} s; ledger: list ${split.listMs} ms, billing_events ${split.eventsMs} ms (parse ${split.parseMs} / insert ${split.insertMs} summed), aggregates ${split.aggregatesMs} ms, other ${Math.round(split.otherMs)} ms, peak RSS ${((child.peakRss ?? 0) / 2 ** 20).toFixed(0)} MB\n`,
  );
  print('top functions by self time:', summary.functions);
  print('top files by self time:', summary.files);
  const { assets: _assets, ...phases } = split;
  return { label, wallMs: child.wallMs, peakRss: child.peakRss, phases, ...summary };
}

async function main(): Promise<void> {
  const rows = arg('--rows', 1_000_000);
  const days = arg('--days', 2);
  const top = arg('--top', 25);
  const dir = join(BENCH_ROOT, '.work', 'profile');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const source = join(dir, 'source');
  const perDay = Math.ceil(rows / days);
  const last = new Date(Date.UTC(2025, 0, days)).toISOString().slice(0, 10);
  await runCli([
    'generate',
    '--to',
    source,
    '--from',
    '2025-01-01',
    '--to',
    last,
    '--rows-per-day',
    String(perDay),
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
  const load = await profiled('first load', dir, env, warehouse, top);
  const noop = await profiled('no-op re-run', dir, env, warehouse, top);
  const out = join(BENCH_ROOT, 'results', 'profile-latest.json');
  await mkdir(join(BENCH_ROOT, 'results'), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ at: new Date().toISOString(), rows: perDay * days, days, runs: [load, noop] }, null, 2)}\n`,
  );
  process.stdout.write(`\nprofiles kept in ${dir}/prof-*; summary in ${out}\n`);
  if (!process.argv.includes('--keep')) await rm(source, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `profile: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
