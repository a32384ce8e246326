import '../quiet-sdk-warning.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFxRates, writeFxFile } from '../billing/fx/fx-generator.js';
import { generate } from '../billing/generate/generator.js';
import { renderInsights } from '../billing/insights-report.js';
import { runReporter } from '../cli/progress.js';
import { type Config, loadConfig } from '../config.js';
import { addDays } from '../orchestrator/days.js';
import { openRuntime } from '../runtime.js';
import { runDaemonUntilSignal } from '../server/daemon.js';
import { createSource } from '../sources/create-source.js';
import { seedDemoBudgets } from './demo-budgets.js';
import { demoDays } from './demo-days.js';
import { startLocalS3 } from './local-s3.js';

/**
 * `npm start`: an embedded S3-compatible endpoint on 127.0.0.1 seeded with generated data, a full
 * materialize, the insights report, then the web UI and API (`dev` daemon) on http://127.0.0.1:3000
 * until Ctrl-C. `npm start -- --no-serve` stops after the report (CI uses it). Re-running it is safe:
 * the same seed writes the same bytes, so the second materialize finds nothing new.
 */
async function demo(options: { serve: boolean; port: number }): Promise<void> {
  const config0 = loadConfig(process.env);
  const s3 = await startLocalS3({
    directory: join(config0.home, 's3'),
    port: Number(process.env.DEMO_S3_PORT ?? 0),
  });
  try {
    process.stdout.write(`local S3 endpoint: ${s3.endpoint} (bucket "billing")\n`);
    await s3.createBucket('billing');
    const sourceUri = 's3://billing/exports/';
    const fxUri = 's3://billing/fx/rates.csv';
    const env = { ...process.env, ...s3.env, BILLING_FX_SOURCE: process.env.BILLING_FX_SOURCE ?? fxUri };
    const { from, to } = demoDays();
    const sink = createSource(sourceUri, env);
    const tmp = await mkdtemp(join(tmpdir(), 'billing-demo-'));
    try {
      const started = Date.now();
      const result = await generate(
        { from, to, rowsPerDay: 5000, seed: 42, dirtyRate: 0.002, filesPerDay: 2, tmpDir: tmp },
        (key, path) => sink.putFile(key, path),
      );
      // Rates from a week before the first day: events just before midnight UTC land on the day before.
      await writeFxFile(fxUri, generateFxRates({ from: addDays(from, -7), to, seed: 42 }), env);
      process.stdout.write(
        `generated ${result.rows} rows in ${result.files.length} files (${from} .. ${to}) in ${Date.now() - started} ms\n`,
      );
    } finally {
      await sink.close();
      await rm(tmp, { recursive: true, force: true });
    }
    const config = loadConfig(env, { source: sourceUri });
    const runtime = await openRuntime(config);
    try {
      const summary = await runtime.materialize(
        { trigger: 'demo' },
        { emitter: runReporter(process.stdout) },
      );
      if (summary.status !== 'success') throw new Error(`demo run failed: ${summary.error}`);
      process.stdout.write(`\n${await renderInsights(runtime.warehouse)}\n`);
      const budgets = await seedDemoBudgets(runtime.warehouse);
      if (budgets.length > 0) {
        // Stored like budgets made in the UI; budget_status (and its alerts) follow at once.
        const status = await runtime.materialize({ trigger: 'demo', selection: ['budget_status'] });
        process.stdout.write(
          `\nBudgets ${budgets.join(', ')} (${status.status}): npx billing-pipeline budgets; alerts: npx billing-pipeline alerts\n`,
        );
      }
      process.stdout.write(
        `\nWarehouse: ${runtime.config.warehousePath}\nTry: npx billing-pipeline query "SELECT * FROM daily_aggregates ORDER BY day" --format table\n`,
      );
    } finally {
      await runtime.close();
    }
    if (options.serve) await serveDemo(config, options.port);
  } finally {
    await s3.stop();
  }
}

/** The demo's daemon; a busy port 3000 (another app) falls back to a free one rather than failing. */
async function serveDemo(config: Config, port: number): Promise<void> {
  process.stdout.write('\nStarting the web UI and API (Ctrl-C to stop)…\n');
  try {
    await runDaemonUntilSignal({ config, mode: 'dev', host: '127.0.0.1', port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    process.stdout.write(`port ${port} is busy; using a free port instead\n`);
    await runDaemonUntilSignal({ config, mode: 'dev', host: '127.0.0.1', port: 0 });
  }
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--no-serve');
if (unknown.length > 0) {
  process.stderr.write(`error: unknown argument ${unknown.join(' ')} (the demo takes only --no-serve)\n`);
  process.exit(2);
}
demo({ serve: !args.includes('--no-serve'), port: Number(process.env.PORT ?? 3000) }).catch(
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
