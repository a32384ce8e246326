import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { RunQueue } from '../../src/orchestrator/run-queue.js';
import { runSensorTick } from '../../src/orchestrator/sensor.js';
import {
  folderForDay,
  parseSourceCursor,
  partitionFolder,
  type SourceSensor,
} from '../../src/orchestrator/source-sensor.js';
import type { Runtime } from '../../src/runtime.js';
import { createSensor, sensorSpecs } from '../../src/server/automation-definitions.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

interface Harness {
  runtime: Runtime;
  store: AutomationStore;
  queue: RunQueue;
  sensor: SourceSensor;
  close(): Promise<void>;
}

/** A sensor over the pipeline's source with a queue that records runs but never starts them. */
async function harness(p: TestPipeline): Promise<Harness> {
  const runtime = await p.open();
  const store = new AutomationStore(runtime.warehouse);
  await store.setup();
  const queue = new RunQueue({ graph: runtime.graph, ledger: runtime.ledger, warehouse: runtime.warehouse });
  const [spec] = sensorSpecs(runtime.config);
  if (!spec) throw new Error('no sensor for this source');
  const { sensor, close } = createSensor(runtime.config, spec, store);
  return {
    runtime,
    store,
    queue,
    sensor,
    async close() {
      await close();
      await runtime.close();
    },
  };
}

let clock = Date.parse('2025-04-24T12:00:00Z');
const later = (seconds: number) => {
  clock += seconds * 1000;
  return new Date(clock);
};

async function tick(h: Harness, seconds = 1) {
  const report = await runSensorTick({ store: h.store, submitter: h.queue }, h.sensor, later(seconds));
  const [last] = await h.store.ticks(h.sensor.name, 1);
  return {
    ...report,
    listing: h.sensor.lastListing,
    cursor: parseSourceCursor(last?.cursor_after ?? null),
    last,
  };
}

/** Cancels queued runs, so the next change makes a run of its own instead of riding along. */
async function drain(h: Harness): Promise<void> {
  for (const run of await queuedRuns(h)) await h.queue.cancel(run.run_id);
}

const queuedRuns = (h: Harness) =>
  h.runtime.warehouse.all<{ run_id: string; run_key: string; trigger: string }>(
    "SELECT run_id, run_key, trigger FROM runs WHERE status = 'queued' ORDER BY created_at",
  );

describe('S3 partition sensor', () => {
  let p: TestPipeline;
  let h: Harness;

  beforeAll(async () => {
    p = await testPipeline('s3-sensor');
    h = await harness(p);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('skips when the bucket holds nothing', async () => {
    const t = await tick(h);
    expect(t.outcome).toBe('skipped');
    expect(t.skipReason).toMatch(/no new or changed files \(full listing, 0 file/);
    expect(t.cursor).toMatchObject({ seq: 0, files: 0 });
  });

  it('requests one run for a new partition, with a run key and the cursor after it', async () => {
    await p.put('year=2025/month=04/day=22/a.csv', csv(row()));
    await p.put('year=2025/month=04/day=22/b.csv', csv(row({ user_id: '2' })));
    const t = await tick(h);
    expect(t.outcome).toBe('requested');
    expect(t.runIds).toHaveLength(1);
    expect(t.cursor).toMatchObject({ seq: 1, files: 2, partitions: 1, latest_partition: '2025-04-22' });
    expect(t.last?.cursor_before).not.toBe(t.last?.cursor_after);
    const runs = await queuedRuns(h);
    expect(runs).toEqual([
      {
        run_id: t.runIds[0],
        run_key: expect.stringMatching(/^s3_partition_sensor:1:[0-9a-f]{16}$/),
        trigger: 'sensor:s3_partition_sensor',
      },
    ]);
  });

  it('skips when nothing changed, listing only recent folders', async () => {
    const t = await tick(h);
    expect(t.outcome).toBe('skipped');
    expect(t.listing).toBe('recent');
    expect(t.skipReason).toMatch(/no new or changed files \(recent listing of \d+ folder/);
    expect(t.last?.cursor_before).toBe(t.last?.cursor_after);
  });

  it('sees the next day as a new partition from a recent listing', async () => {
    await drain(h);
    await p.put('year=2025/month=04/day=23/a.csv', csv(row({ timestamp: '2025-04-23T08:00:00Z' })));
    const t = await tick(h);
    expect(t.listing).toBe('recent');
    expect(t.outcome).toBe('requested');
    expect(t.cursor).toMatchObject({ seq: 2, files: 3, partitions: 2, latest_partition: '2025-04-23' });
  });

  it('a queued run from the sensor picks up the next change instead of a second run', async () => {
    expect(await queuedRuns(h)).toHaveLength(1);
    await p.put('year=2025/month=04/day=23/b.csv', csv(row({ user_id: '7' })));
    const t = await tick(h);
    expect(t.outcome).toBe('skipped');
    expect(t.skipReason).toMatch(/is already queued and will pick these changes up/);
    expect(t.runIds).toEqual([(await queuedRuns(h))[0]?.run_id]);
    expect(t.cursor?.files).toBe(4);
    await drain(h);
  });

  it('notices a corrected re-upload (new ETag) of an existing file', async () => {
    const before = await tick(h);
    expect(before.outcome).toBe('skipped');
    await p.put(
      'year=2025/month=04/day=23/a.csv',
      csv(row({ timestamp: '2025-04-23T08:00:00Z', credit_usage: '9.5' })),
    );
    const t = await tick(h);
    expect(t.outcome).toBe('requested');
    expect(t.cursor?.files).toBe(4);
    expect(t.cursor?.digest).not.toBe(before.cursor?.digest);
    expect((await queuedRuns(h)).map((r) => r.run_id)).toEqual(t.runIds);
  });

  it('finds a late file in an old partition at the next full listing, not before', async () => {
    await drain(h);
    await p.put('year=2025/month=03/day=01/late.csv', csv(row({ timestamp: '2025-03-01T08:00:00Z' })));
    const recent = await tick(h);
    expect(recent.listing).toBe('recent');
    expect(recent.outcome).toBe('skipped');
    const full = await tick(h, 900);
    expect(full.listing).toBe('full');
    expect(full.outcome).toBe('requested');
    expect(full.cursor).toMatchObject({ files: 5, partitions: 3, latest_partition: '2025-04-23' });
  });

  it('records a deleted object in the cursor without requesting a run', async () => {
    await drain(h);
    const client = (await import('../../src/sources/s3-client.js')).createS3Client(p.env);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const bucket = p.source.replace(/^s3:\/\/|\/$/g, '');
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'year=2025/month=04/day=23/b.csv' }));
    client.destroy();
    const t = await tick(h);
    expect(t.outcome).toBe('skipped');
    expect(t.skipReason).toMatch(/1 file\(s\) no longer in the source; nothing new to load/);
    expect(t.cursor?.files).toBe(4);
    expect(await queuedRuns(h)).toEqual([]);
    // Uploading it again is a change like any other.
    await p.put('year=2025/month=04/day=23/b.csv', csv(row({ user_id: '7' })));
    expect((await tick(h)).outcome).toBe('requested');
  });

  it('keeps its snapshot across restarts and never requests the same change twice', async () => {
    await drain(h);
    await h.close();
    h = await harness(p);
    const unchanged = await tick(h);
    expect(unchanged.outcome).toBe('skipped');
    expect(unchanged.listing).toBe('full'); // the first tick after a restart reconciles
    await p.put('year=2025/month=04/day=24/a.csv', csv(row({ timestamp: '2025-04-24T01:00:00Z' })));
    // Evaluating twice from the same stored cursor is what a process that crashed after queueing
    // the run, before committing its cursor, does on restart: the run key must come out the same.
    const cursor = (await h.store.state(h.sensor.name))?.cursor ?? null;
    const first = await h.sensor.evaluate({ cursor, now: later(1), signal: new AbortController().signal });
    const again = await h.sensor.evaluate({ cursor, now: later(1), signal: new AbortController().signal });
    expect(first.runRequests[0]?.runKey).toBe(again.runRequests[0]?.runKey);
    const a = await h.queue.submit(first.runRequests[0] ?? { trigger: 'x' });
    const b = await h.queue.submit(again.runRequests[0] ?? { trigger: 'x' });
    expect(b).toEqual({ runId: a.runId, deduplicated: true });
  });
});

describe('local file sensor', () => {
  it('detects new and changed files by size and mtime', async () => {
    const folder = await tmpDir('file-sensor-src');
    const p = await testPipeline('file-sensor', { source: folder });
    const h = await harness(p);
    try {
      expect(h.sensor.name).toBe('local_file_sensor');
      expect((await tick(h)).outcome).toBe('skipped');
      await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
      await p.put('billing-2025-04-24.csv', csv(row()));
      const first = await tick(h);
      expect(first.outcome).toBe('requested');
      expect(first.cursor).toMatchObject({ files: 2, partitions: 2 });
      await drain(h);
      const quiet = await tick(h);
      expect(quiet.outcome).toBe('skipped');
      expect(quiet.runIds).toEqual([]);
      // Same size, new mtime: a rewrite.
      const file = path.join(folder, 'billing-2025-04-24.csv');
      const when = new Date(Date.now() + 60_000);
      await utimes(file, when, when);
      const touched = await tick(h);
      expect(touched.outcome).toBe('requested');
      expect(touched.runIds[0]).not.toBe(first.runIds[0]);
    } finally {
      await h.close();
    }
  });
});

describe('partition folders', () => {
  it('finds the Hive folder of a key and maps it to another day in the same style', () => {
    expect(partitionFolder('year=2025/month=4/day=3/a.csv')).toBe('year=2025/month=4/day=3/');
    expect(partitionFolder('region=eu/year=2025/month=04/day=23/x/a.csv')).toBe(
      'region=eu/year=2025/month=04/day=23/',
    );
    expect(partitionFolder('billing-2025-04-23.csv')).toBeNull();
    expect(folderForDay('region=eu/year=2025/month=04/day=23/', '2026-01-02')).toBe(
      'region=eu/year=2026/month=01/day=02/',
    );
    expect(folderForDay('year=2025/month=4/day=30/', '2025-05-01')).toBe('year=2025/month=5/day=1/');
  });
});
