import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csv, row } from '../support/pipeline.js';
import { type ApiHarness, apiHarness } from './support.js';

interface Summary {
  name: string;
  status: string | null;
  freshness: string;
  partitions: Record<string, number> | null;
}
interface Partitions {
  first: string;
  last: string;
  states: string;
  counts: Record<string, number>;
}

const FROM = '2025-03-01';
const TO = '2025-03-10';

describe('assets API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-assets', { from: FROM, to: TO, rowsPerDay: 200 });
  });
  afterAll(() => h?.close());

  const states = async (asset: string) => (await h.get<Partitions>(`/api/assets/${asset}/partitions`)).body;
  const stateOf = (p: Partitions, day: string) =>
    p.states.charAt(Math.round((Date.parse(day) - Date.parse(p.first)) / 86_400_000));

  it('lists every asset with edges, latest status and freshness after a full run', async () => {
    const { status, body } = await h.get<{ assets: Summary[]; edges: { source: string; target: string }[] }>(
      '/api/assets',
    );
    expect(status).toBe(200);
    expect(body.assets.map((a) => a.name)).toContain('daily_aggregates');
    expect(body.assets).toHaveLength(h.runtime.graph.assets.length);
    expect(body.edges).toContainEqual({ source: 'billing_events', target: 'daily_aggregates' });
    for (const asset of body.assets) {
      expect(asset, asset.name).toMatchObject({ status: 'success', freshness: 'fresh' });
    }
    const events = body.assets.find((a) => a.name === 'billing_events');
    expect(events?.partitions).toEqual({ materialized: 10, failed: 0, missing: 0, stale: 0, running: 0 });
  });

  it('encodes one state per day and marks stale, missing, failed and running days, then heals them', async () => {
    const before = await states('billing_events');
    expect(before).toMatchObject({ first: FROM, last: TO, states: 'm'.repeat(10) });

    // A second file for an existing day, a file for a new day (with a gap), and a corrupt gzip.
    await h.pipeline.put(
      'year=2025/month=03/day=05/late.csv',
      csv(row({ timestamp: '2025-03-05T12:00:00Z' })),
    );
    await h.pipeline.put(
      'year=2025/month=03/day=12/new.csv',
      csv(row({ timestamp: '2025-03-12T12:00:00Z' })),
    );
    await h.pipeline.put('year=2025/month=03/day=07/broken.csv.gz', Buffer.from('not gzip at all'));
    await h.runtime.materialize({ trigger: 'test', selection: ['billing_files'] });

    const listed = await states('billing_events');
    expect(listed.last).toBe('2025-03-12');
    expect(stateOf(listed, '2025-03-05')).toBe('s');
    expect(stateOf(listed, '2025-03-11')).toBe('.');
    expect(stateOf(listed, '2025-03-12')).toBe('x');
    const daily = await states('daily_aggregates');
    expect(stateOf(daily, '2025-03-05')).toBe('s');
    expect(stateOf(daily, '2025-03-12')).toBe('x');

    await h.runtime.materialize({ trigger: 'test' });
    const loaded = await states('billing_events');
    expect(stateOf(loaded, '2025-03-05')).toBe('m');
    expect(stateOf(loaded, '2025-03-12')).toBe('m');
    expect(stateOf(loaded, '2025-03-07')).toBe('f');
    expect(loaded.counts.failed).toBe(1);
    expect(stateOf(await states('daily_aggregates'), '2025-03-12')).toBe('m');

    // A corrected upload of the broken file: the old failure no longer shows.
    await h.pipeline.put(
      'year=2025/month=03/day=07/broken.csv.gz',
      gzipSync(csv(row({ timestamp: '2025-03-07T08:00:00Z' }))),
    );
    await h.runtime.materialize({ trigger: 'test' });
    const healed = await states('billing_events');
    expect(stateOf(healed, '2025-03-07')).toBe('m');
    expect(healed.counts.failed).toBe(0);

    // A run in progress over a range shows those days as running.
    const runId = await h.runtime.ledger.createRun(
      {
        trigger: 'test',
        selection: ['daily_aggregates'],
        range: { from: '2025-03-02', to: '2025-03-03' },
        fullRefresh: false,
      },
      'running',
    );
    const running = await states('daily_aggregates');
    expect(stateOf(running, '2025-03-02')).toBe('r');
    expect(stateOf(running, '2025-03-04')).toBe('m');
    expect(stateOf(await states('billing_events'), '2025-03-02')).toBe('m');
    await h.runtime.ledger.finishRun(runId, 'canceled', 'test');
  });

  it('shows one partition with its runs, files and source rows', async () => {
    const { status, body } = await h.get<{
      status: string;
      materializations: unknown[];
      files: { source_key: string }[];
      rows: { source_line: number }[];
    }>(`/api/assets/billing_events/partitions/${FROM}?rows=5`);
    expect(status).toBe(200);
    expect(body.status).toBe('materialized');
    expect(body.materializations.length).toBeGreaterThan(0);
    expect(body.files.map((f) => f.source_key)).toEqual([
      'year=2025/month=03/day=01/billing-2025-03-01-part-000.csv',
      'year=2025/month=03/day=01/billing-2025-03-01-part-001.csv',
    ]);
    expect(body.rows).toHaveLength(5);
  });

  it('returns the materialization history with parsed metadata', async () => {
    const { body } = await h.get<{
      materializations: { status: string; metadata: unknown; row_count: number }[];
    }>('/api/assets/billing_events/materializations');
    expect(body.materializations.length).toBeGreaterThanOrEqual(3);
    const first = body.materializations.at(-1);
    expect(first?.status).toBe('success');
    expect(first?.row_count).toBeGreaterThan(1900);
    expect(first?.metadata).toMatchObject({ loadedFiles: 20 });
  });

  it('answers bad requests with a JSON 4xx', async () => {
    const cases: [string, number, string][] = [
      ['/api/assets/nope', 404, 'unknown_asset'],
      ['/api/assets/nope/partitions', 404, 'unknown_asset'],
      ['/api/assets/billing_insights/partitions', 400, 'not_partitioned'],
      ['/api/assets/billing_events/partitions/2025-02-30', 400, 'invalid_request'],
      ['/api/assets/billing_events/partitions/yesterday', 400, 'invalid_request'],
      ['/api/assets/billing_events/materializations?limit=abc', 400, 'invalid_request'],
      ['/api/assets/billing_events/materializations?limit=0', 400, 'invalid_request'],
    ];
    for (const [url, status, code] of cases) {
      const res = await h.get<{ error: { code: string; message: string } }>(url);
      expect(res.status, url).toBe(status);
      expect(res.body.error.code, url).toBe(code);
      expect(res.body.error.message, url).not.toMatch(/\n\s+at /);
    }
  });
});
