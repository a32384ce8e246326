import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { RunQueue } from '../../src/orchestrator/run-queue.js';
import { runSensorTick } from '../../src/orchestrator/sensor.js';
import { s3Lister } from '../../src/orchestrator/source-listers.js';
import { SourceSensor } from '../../src/orchestrator/source-sensor.js';
import { openRuntime } from '../../src/runtime.js';
import { createSource } from '../../src/sources/create-source.js';
import { RetryingSource, type RetryOptions } from '../../src/sources/retrying-source.js';
import { createS3Client } from '../../src/sources/s3-client.js';
import { SourceError, type SourceFile } from '../../src/sources/source.js';
import type { Row } from '../../src/warehouse/warehouse.js';
import { csv, RESULT_TABLES, row, snapshot, testPipeline } from '../support/pipeline.js';
import { s3Env } from '../support/s3.js';
import { type FaultProxy, failFirst, failOncePerPath, faultProxy } from './fault-proxy.js';

let proxy: FaultProxy | null = null;

afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

async function startProxy(plan: Parameters<typeof faultProxy>[1]): Promise<FaultProxy> {
  proxy = await faultProxy(inject('s3Endpoint'), plan);
  return proxy;
}

/** S3 settings that go through the proxy, with the SDK's own retries off so every attempt is ours. */
const viaProxy = (p: FaultProxy, extra: Record<string, string> = {}) => ({
  ...s3Env(),
  AWS_ENDPOINT_URL: p.endpoint,
  AWS_MAX_ATTEMPTS: '1',
  ...extra,
});

/** Backoff with the largest jitter draw and a sleep that only records what it was asked to wait. */
function recordedRetry(retries: number, baseDelayMs: number, maxDelayMs: number) {
  const delays: number[] = [];
  const options: RetryOptions = {
    retries,
    baseDelayMs,
    maxDelayMs,
    random: () => 0.999_999,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
  return { delays, options };
}

async function listAll(source: { list(): AsyncIterable<SourceFile> }): Promise<string[]> {
  const keys: string[] = [];
  for await (const file of source.list()) keys.push(file.key);
  return keys;
}

const failure = async (promise: Promise<unknown>): Promise<SourceError> => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
};

describe('retries on injected S3 failures', () => {
  it('retries a listing through 503s with doubling backoff and succeeds', async () => {
    const p = await testPipeline('retry-list');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
    const fp = await startProxy(failFirst(3));
    const { delays, options } = recordedRetry(5, 100, 10_000);
    const source = new RetryingSource(createSource(p.source, viaProxy(fp)), options);
    try {
      expect(await listAll(source)).toEqual(['year=2025/month=04/day=23/a.csv']);
    } finally {
      await source.close();
    }
    expect(fp.log.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(delays).toEqual([99, 199, 399]);
  });

  it('caps the backoff of the sensor lister and then lists', async () => {
    const p = await testPipeline('retry-lister');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
    const fp = await startProxy(failFirst(4, 500));
    const { delays, options } = recordedRetry(6, 50, 120);
    const client = createS3Client(viaProxy(fp));
    try {
      const lister = s3Lister({ client, uri: p.source, retry: options });
      const files = await lister.listAll(new AbortController().signal);
      expect(files.map((f) => f.key)).toEqual(['year=2025/month=04/day=23/a.csv']);
    } finally {
      client.destroy();
    }
    expect(delays).toEqual([49, 99, 119, 119]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
  });

  it('gives up after the configured attempts and says so', async () => {
    const p = await testPipeline('retry-give-up');
    const fp = await startProxy(() => 503);
    const { delays, options } = recordedRetry(2, 10, 100);
    const source = new RetryingSource(createSource(p.source, viaProxy(fp)), options);
    const error = await failure(listAll(source)).finally(() => source.close());
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/retry may help.*\(gave up after 3 attempts\)/);
    expect(fp.log).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('fails fast, without retrying, on a missing bucket and on bad credentials', async () => {
    const fp = await startProxy(() => null);
    const { delays, options } = recordedRetry(4, 10, 100);
    const missing = new RetryingSource(createSource('s3://no-such-bucket-retry/', viaProxy(fp)), options);
    const gone = await failure(listAll(missing)).finally(() => missing.close());
    expect(gone.transient).toBe(false);
    expect(gone.message).toMatch(/bucket "no-such-bucket-retry" does not exist \(check BILLING_SOURCE\)/);
    expect(fp.log).toHaveLength(1);

    const p = await testPipeline('retry-credentials');
    const env = viaProxy(fp, { AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' });
    const denied = new RetryingSource(createSource(p.source, env), options);
    const auth = await failure(listAll(denied)).finally(() => denied.close());
    expect(auth.transient).toBe(false);
    expect(auth.message).toMatch(/check AWS credentials/);
    expect(fp.log).toHaveLength(2);
    expect(delays).toEqual([]);
  });
});

describe('a sensor on a flaky S3', () => {
  it('records a tick that ran out of retries as failed, keeps its cursor, and catches up next tick', async () => {
    const p = await testPipeline('retry-sensor');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
    let down = true;
    const fp = await startProxy(() => (down ? 503 : null));
    const runtime = await p.open();
    const client = createS3Client(viaProxy(fp));
    try {
      const store = new AutomationStore(runtime.warehouse);
      const { delays, options } = recordedRetry(2, 10, 100);
      const sensor = new SourceSensor({
        name: 'flaky',
        kind: 's3',
        lister: s3Lister({ client, uri: p.source, retry: options }),
        store,
        intervalSeconds: 1,
      });
      // Never started: the submitted run is only recorded.
      const queue = new RunQueue({
        graph: runtime.graph,
        ledger: runtime.ledger,
        warehouse: runtime.warehouse,
      });
      const deps = { store, submitter: queue };
      const failed = await runSensorTick(deps, sensor, new Date());
      expect(failed).toMatchObject({ outcome: 'failed', runIds: [] });
      expect(failed.error).toMatch(/gave up after 3 attempts/);
      expect(await store.state('flaky')).toBeNull();
      expect(delays).toEqual([9, 19]);

      down = false;
      const caughtUp = await runSensorTick(deps, sensor, new Date());
      expect(caughtUp.outcome).toBe('requested');
      const [last, first] = await store.ticks('flaky', 2);
      expect(first).toMatchObject({ outcome: 'failed', cursor_before: null, cursor_after: null });
      expect(last).toMatchObject({ outcome: 'requested', cursor_before: null });
    } finally {
      client.destroy();
      await runtime.close();
    }
  });
});

describe('a run through a flaky S3', () => {
  it('retries every failed read and ends with the tables of a clean run', async () => {
    const p = await testPipeline('retry-run');
    for (const day of ['22', '23', '24']) {
      for (const part of ['a', 'b']) {
        await p.put(
          `year=2025/month=04/day=${day}/${part}.csv`,
          csv(
            row({ timestamp: `2025-04-${day}T10:00:00Z`, user_id: '1', credit_usage: '1.25' }),
            row({ timestamp: `2025-04-${day}T11:00:00Z`, user_id: part === 'a' ? '2' : '3' }),
          ),
        );
      }
    }
    // Every distinct GET (the listing and each object) answers 503 once, then goes through.
    const fp = await startProxy(failOncePerPath((r) => r.method === 'GET'));
    const config = loadConfig(
      viaProxy(fp, {
        BILLING_FX_SOURCE: p.env.BILLING_FX_SOURCE ?? '',
        BILLING_DUCKDB_THREADS: '2',
        BILLING_SOURCE_RETRY_BASE_MS: '1',
        BILLING_SOURCE_RETRY_MAX_MS: '5',
      }),
      { source: p.source, home: path.join(p.home, 'flaky') },
    );
    const runtime = await openRuntime(config);
    const flaky: Record<string, Row[]> = {};
    try {
      const summary = await runtime.materialize({ trigger: 'test' });
      expect(summary.error).toBeNull();
      expect(summary.status).toBe('success');
      for (const [table, sql] of Object.entries(RESULT_TABLES))
        flaky[table] = await runtime.warehouse.all(sql);
    } finally {
      await runtime.close();
    }
    const objectReads = fp.log
      .filter((r) => r.method === 'GET' && (r.path.split('?')[0] ?? '').endsWith('.csv'))
      .map((r) => ({ ...r, path: r.path.split('?')[0] ?? '' }));
    const injected = objectReads.filter((r) => r.injected).map((r) => r.path);
    expect(new Set(injected).size).toBe(6);
    for (const key of injected) {
      expect(objectReads.filter((r) => r.path === key).map((r) => r.status)).toEqual([503, 200]);
    }
    expect(fp.log.some((r) => r.injected && r.path.includes('list-type=2'))).toBe(true);

    await p.materialize();
    expect(flaky).toEqual(await snapshot(p));
  });
});
