import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { S3_SENSOR } from '../../src/server/automation-definitions.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';

const DAY = 'year=2025/month=04/day=23';
const TOKEN = 'obs-s3cret';
const auth = { authorization: `Bearer ${TOKEN}` };

/** One sample's value from the text format; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    if (line.slice(0, at) === series) return Number(line.slice(at + 1));
  }
  return undefined;
}

/**
 * The real daemon in-process (queue, automation, warehouse on the test S3 bucket) with the API
 * token set and JSON logs switched on through the environment, as an operator would.
 */
describe('observability: /healthz, /readyz, /metrics and JSON logs', () => {
  let pipeline: TestPipeline;
  let daemon: Daemon;
  const lines: string[] = [];
  let now = new Date('2025-05-01T12:00:00Z');

  const get = (url: string, headers: Record<string, string> = {}) => daemon.app.request(url, { headers });
  const metrics = async () => {
    const res = await get('/metrics', auth);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    pipeline = await testPipeline('observability');
    await pipeline.put(
      `${DAY}/a.csv`,
      csv(
        row({ user_id: '1' }),
        row({ user_id: '2' }),
        row({ credit_usage: 'abc' }),
        row({ user_id: '3' }),
        row({ success: 'maybe' }),
      ),
    );
    // Missing columns: the whole file is rejected.
    await pipeline.put(`${DAY}/missing.csv`, 'timestamp,user_id,credit_usage\n2025-04-23T10:00:00Z,1,1.0\n');
    const config = loadConfig(
      {
        ...pipeline.env,
        BILLING_DUCKDB_THREADS: '2',
        BILLING_API_TOKEN: TOKEN,
        BILLING_LOG_FORMAT: 'json',
      },
      { source: pipeline.source, home: path.join(pipeline.home, 'state') },
    );
    daemon = await startDaemon({
      config,
      // `serve` keeps sensors off: no tick races the assertions.
      mode: 'serve',
      host: '127.0.0.1',
      port: 0,
      log: (line) => lines.push(line),
      metrics: { now: () => now, processMetrics: false },
    });
  }, 120_000);

  afterAll(() => daemon?.stop());

  it('answers /healthz and /readyz without the token, and keeps /metrics behind it', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer nope' })).status).toBe(401);
    const res = await get('/metrics', auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE billing_runs_finished_total counter');
    expect(text).toContain('# TYPE billing_run_duration_seconds histogram');
    expect(sample(text, 'billing_runs_queued')).toBe(0);
    expect(sample(text, 'billing_source_errors_total{kind="permanent"}')).toBe(0);
  });

  it('documents the probes and /metrics in the OpenAPI document', async () => {
    const doc = (await (await get('/api/openapi.json', auth)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
  });

  it('counts a run through the queue by status, with the rows it ingested and rejected', async () => {
    const { runId } = await daemon.queue.submit({ trigger: 'test' });
    await daemon.queue.idle();
    const [run] = await daemon.runtime.warehouse.all<{ status: string }>(
      'SELECT status FROM runs WHERE run_id = $1',
      [runId],
    );
    expect(run?.status).toBe('success');
    const [asset] = await daemon.runtime.warehouse.all<{ metadata: string }>(
      "SELECT metadata FROM asset_runs WHERE run_id = $1 AND asset = 'billing_events'",
      [runId],
    );
    const recorded = JSON.parse(asset?.metadata ?? '{}') as Record<string, number>;
    expect(recorded).toMatchObject({ rows: 3, rejectedRows: 2, rejectedFiles: 1 });

    const text = await metrics();
    expect(sample(text, 'billing_runs_finished_total{status="success"}')).toBe(1);
    expect(sample(text, 'billing_runs_finished_total{status="failed"}')).toBeUndefined();
    expect(sample(text, 'billing_run_duration_seconds_count{status="success"}')).toBe(1);
    expect(sample(text, 'billing_rows_ingested_total{asset="billing_events"}')).toBe(recorded.rows);
    expect(sample(text, 'billing_rows_rejected_total{asset="billing_events"}')).toBe(recorded.rejectedRows);
    expect(sample(text, 'billing_files_rejected_total{asset="billing_events"}')).toBe(1);
    // Aggregates report no ingest counts, so they get no series.
    expect(text).not.toContain('billing_rows_ingested_total{asset="daily_aggregates"}');
    expect(sample(text, 'billing_runs_running')).toBe(0);
  });

  it('logs the run as JSON lines that carry its run id', () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of parsed) {
      expect(Object.keys(record).slice(0, 3)).toEqual(['time', 'level', 'msg']);
      expect(new Date(String(record.time)).toISOString()).toBe(record.time);
    }
    const runIds = [...new Set(parsed.map((r) => r.run_id).filter((id) => typeof id === 'string'))];
    expect(runIds).toHaveLength(1);
    const ofRun = parsed.filter((r) => r.run_id === runIds[0]);
    expect(ofRun.map((r) => r.msg)).toEqual([
      expect.stringMatching(/ started: /),
      expect.stringMatching(/ success$/),
    ]);
    expect(ofRun[1]).toMatchObject({ level: 'info', status: 'success' });
  });

  it('reports sensor ticks by outcome and the lag since the last successful tick', async () => {
    // Enabled in the store only: the sensor's loop would tick on the real clock.
    await new AutomationStore(daemon.runtime.warehouse).setEnabled(S3_SENSOR, 'sensor', true);
    let text = await metrics();
    expect(text).not.toContain(`billing_sensor_lag_seconds{sensor="${S3_SENSOR}"}`);

    const tickedAt = new Date('2025-05-01T12:00:00Z');
    const report = await daemon.automation.tickNow(S3_SENSOR, tickedAt);
    expect(report?.outcome).toBe('requested');
    await daemon.queue.idle();
    now = new Date(tickedAt.getTime() + 90_000);
    text = await metrics();
    expect(
      sample(text, `billing_automation_ticks_total{kind="sensor",name="${S3_SENSOR}",outcome="requested"}`),
    ).toBe(1);
    expect(sample(text, `billing_sensor_lag_seconds{sensor="${S3_SENSOR}"}`)).toBe(90);
    expect(sample(text, 'billing_runs_finished_total{status="success"}')).toBe(2);
    const tickLine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.sensor === S3_SENSOR);
    expect(tickLine).toMatchObject({ level: 'info', outcome: 'requested', run_id: report?.runIds[0] });
  });

  it('turns /readyz to 503 with a reason once the run queue stops; /healthz stays up', async () => {
    await daemon.queue.stop();
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'the run queue is stopped' });
    expect((await get('/healthz')).status).toBe(200);
  });
});
