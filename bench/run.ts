/**
 * `npm run bench`: the pipeline's performance figures, side by side in one run so machine noise hits
 * every variant alike. Every pipeline step runs as the real CLI in a child process. See bench/README.md.
 */
// First, as in the CLI's entry: silences the AWS SDK's Node 20 notice before any S3 client exists.
import '../src/quiet-sdk-warning.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalS3 } from '../src/dev/local-s3.js';
import { RSS_METHOD } from './child.js';
import { type BenchContext, writeFxRates } from './context.js';
import { machineInfo } from './machine.js';
import { parseOptions, sizesFor, UsageError } from './options.js';
import { automation } from './sections/automation.js';
import { forecast } from './sections/forecast.js';
import { fullLoad } from './sections/full-load.js';
import { generator } from './sections/generator.js';
import { buildHistory } from './sections/history.js';
import { memory } from './sections/memory.js';
import { rerun } from './sections/rerun.js';
import { scaleOut } from './sections/scale-out.js';
import { renderGoals, renderTable } from './stats.js';
import { renderSummary, scaleOutRows } from './summary.js';

/** dist/bench/run.js -> <repo>/bench: results and scratch live beside the sources, not in dist/. */
const BENCH_ROOT = fileURLToPath(new URL('../../bench/', import.meta.url));

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2), BENCH_ROOT);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return error.message.startsWith('usage:') ? 0 : 2;
    }
    throw error;
  }
  const sizes = sizesFor(options);
  const started = new Date();
  const t0 = performance.now();
  const log = (message: string) =>
    process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
  const machine = await machineInfo();
  log(
    `bench: ${options.only.join(', ')}; scale ${options.scale}, reps ${options.reps}${options.tiny ? ', tiny' : ''}; memory_limit ${options.memoryLimit}`,
  );
  log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, node ${machine.node}, DuckDB ${machine.duckdb}`,
  );
  if (machine.loadAverageAtStart > machine.cores / 2) {
    log(
      `WARNING: load average ${machine.loadAverageAtStart.toFixed(1)} on ${machine.cores} cores: other work will skew the figures`,
    );
  }

  await rm(options.workDir, { recursive: true, force: true });
  await mkdir(options.workDir, { recursive: true });
  const s3 = await startLocalS3({ directory: join(options.workDir, 's3') });
  const fxRates = await writeFxRates(join(options.workDir, 'fx-rates.csv'));
  const ctx: BenchContext = {
    options,
    sizes,
    s3,
    bucket: 'bench',
    fxRates,
    figures: [],
    goals: [],
    summary: [],
    details: {},
    log,
  };
  let failure: unknown = null;
  try {
    await s3.createBucket(ctx.bucket);
    const want = (name: (typeof options.only)[number]) => options.only.includes(name);
    if (want('full')) await fullLoad(ctx);
    if (want('incremental') || want('rerun')) {
      const history = await buildHistory(ctx, want('incremental'));
      if (want('rerun')) await rerun(ctx, history);
    }
    if (want('memory')) await memory(ctx);
    if (want('generator')) await generator(ctx);
    if (want('automation')) await automation(ctx);
    if (want('scale-out')) {
      await scaleOut(ctx);
      ctx.summary.push(...scaleOutRows(ctx.figures));
    }
    if (want('forecast')) await forecast(ctx);
  } catch (error) {
    // Whatever was measured before the failure is still printed and saved, marked incomplete.
    failure = error;
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await s3.stop();
    if (!options.keep) await rm(options.workDir, { recursive: true, force: true });
  }

  const elapsedS = (performance.now() - t0) / 1000;
  const endLoad = loadavg()[0] ?? 0;
  const out = [
    '',
    `billing-pipeline bench — ${started.toISOString()} — scale ${options.scale}, reps ${options.reps}${options.tiny ? ', TINY (smoke)' : ''}, DuckDB memory_limit ${options.memoryLimit}`,
    `${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, node ${machine.node}, DuckDB ${machine.duckdb}; took ${elapsedS.toFixed(0)} s`,
    `load average: ${machine.loadAverageAtStart.toFixed(1)} at start, ${endLoad.toFixed(1)} at end${Math.max(machine.loadAverageAtStart, endLoad) > machine.cores / 2 ? ' (the machine was busy with other work: figures are noisy)' : ''}`,
    '',
    renderTable(ctx.figures),
    '',
    'other goals:',
    renderGoals(ctx.goals),
    '',
    'issue 12, side by side (median of per-repetition ratios; PASS/MISS against the goal):',
    renderSummary(ctx.summary),
    ...(failure ? ['', `INCOMPLETE: ${failure instanceof Error ? failure.message : String(failure)}`] : []),
  ];
  process.stdout.write(`${out.join('\n')}\n`);

  const result = {
    startedAt: started.toISOString(),
    elapsedSeconds: Math.round(elapsedS),
    complete: failure === null,
    error: failure ? String(failure instanceof Error ? failure.message : failure) : null,
    machine: { ...machine, loadAverageAtEnd: endLoad },
    options: { ...options, rssMethod: RSS_METHOD },
    sizes,
    goals: ctx.goals,
    summary: ctx.summary,
    figures: ctx.figures,
    details: ctx.details,
  };
  await mkdir(options.resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const file = join(options.resultsDir, `${started.toISOString().replaceAll(':', '-')}.json`);
  await writeFile(file, json);
  await writeFile(join(options.resultsDir, 'latest.json'), json);
  log(`results: ${file} (and latest.json)`);
  return failure ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
