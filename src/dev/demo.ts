import '../quiet-sdk-warning.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../billing/generate/generator.js';
import { renderInsights } from '../billing/insights-report.js';
import { runReporter } from '../cli/progress.js';
import { loadConfig } from '../config.js';
import { addDays, dayOf } from '../orchestrator/days.js';
import { openRuntime } from '../runtime.js';
import { createSource } from '../sources/create-source.js';
import { startLocalS3 } from './local-s3.js';

/**
 * `npm start`: an embedded S3-compatible endpoint on 127.0.0.1 seeded with generated data, a full
 * materialize, and the insights report. Re-running it is safe: the same seed writes the same bytes,
 * so the second materialize finds nothing new.
 */
async function demo(): Promise<void> {
  const config0 = loadConfig(process.env);
  const s3 = await startLocalS3({
    directory: join(config0.home, 's3'),
    port: Number(process.env.DEMO_S3_PORT ?? 0),
  });
  try {
    process.stdout.write(`local S3 endpoint: ${s3.endpoint} (bucket "billing")\n`);
    await s3.createBucket('billing');
    const env = { ...process.env, ...s3.env };
    const sourceUri = 's3://billing/exports/';
    const to = dayOf(new Date(Date.now() - 86_400_000));
    const from = addDays(to, -29);
    const sink = createSource(sourceUri, env);
    const tmp = await mkdtemp(join(tmpdir(), 'billing-demo-'));
    try {
      const started = Date.now();
      const result = await generate(
        { from, to, rowsPerDay: 5000, seed: 42, dirtyRate: 0.002, filesPerDay: 2, tmpDir: tmp },
        (key, path) => sink.putFile(key, path),
      );
      process.stdout.write(
        `generated ${result.rows} rows in ${result.files.length} files (${from} .. ${to}) in ${Date.now() - started} ms\n`,
      );
    } finally {
      await sink.close();
      await rm(tmp, { recursive: true, force: true });
    }
    const runtime = await openRuntime(loadConfig(env, { source: sourceUri }));
    try {
      const summary = await runtime.materialize(
        { trigger: 'demo' },
        { emitter: runReporter(process.stdout) },
      );
      if (summary.status !== 'success') throw new Error(`demo run failed: ${summary.error}`);
      process.stdout.write(`\n${await renderInsights(runtime.warehouse)}\n`);
      process.stdout.write(
        `\nWarehouse: ${runtime.config.warehousePath}\nTry: npx billing-pipeline query "SELECT * FROM daily_aggregates ORDER BY day" --format table\n`,
      );
    } finally {
      await runtime.close();
    }
  } finally {
    await s3.stop();
  }
}

demo().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
