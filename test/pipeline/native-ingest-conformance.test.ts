import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  csv,
  row,
  TEST_BACKEND,
  TEST_FX_RATES,
  type TestPipeline,
  testPipeline,
} from '../support/pipeline.js';
import { ingestSnapshotOf } from './ingest-tables.js';

/*
 * The DuckDB-native parse and the JS parser end with the same tables, through batches that mix
 * natively parsed files with files only the JS path can take (a rejected row, quotes), and a
 * corrected re-upload. The JS side runs with `ingest_parser: js` (BILLING_INGEST_PARSER).
 */

const D1 = 'year=2025/month=04/day=23';
const D2 = 'year=2025/month=04/day=24';

const clean = (user: string) =>
  csv(
    row({ user_id: user }),
    row({ user_id: `${user}1`, timestamp: '2025-04-23T01:30:00+02:00', credit_usage: '.25', success: 'Y' }),
    row({ user_id: `${user}2`, currency: 'EUR', resource_id: ' ', invoice_id: '' }),
  );

async function load(p: TestPipeline, files: Record<string, string | Buffer>): Promise<void> {
  for (const [key, body] of Object.entries(files)) await p.put(key, body);
  expect((await p.materialize({ selection: ['billing_files', 'fx_rates', 'billing_events'] })).status).toBe(
    'success',
  );
}

describe('DuckDB-native ingest conformance', () => {
  it('fills the ingest tables exactly as the JS parser does', async () => {
    const first = {
      [`${D1}/a.csv`]: clean('1'),
      [`${D1}/b.csv`]: csv(row({ user_id: '7' }), row({ user_id: 'x7' })),
      [`${D1}/c.csv`]: csv(row({ user_id: '8', resource_id: '"q, r"' })),
      [`${D2}/d.csv.gz`]: gzipSync(clean('2').replaceAll('2025-04-23', '2025-04-24')),
      [`${D2}/e.csv`]: clean('3').replaceAll('2025-04-23', '2025-04-24').replaceAll(',', '|'),
    };
    const second = { [`${D1}/a.csv`]: clean('4'), [`${D1}/b.csv`]: clean('5') };
    // One FX file for both: its path is recorded.
    const fx = join(await mkdtemp(join(tmpdir(), 'native-fx-')), 'fx-rates.csv');
    await writeFile(fx, TEST_FX_RATES);
    const snapshots = [];
    for (const native of [true, false]) {
      const env: Record<string, string> = native ? {} : { BILLING_INGEST_PARSER: 'js' };
      const p = await testPipeline(`native-conformance-${native}`, { fx, env });
      await load(p, first);
      const [events] = await p.rows(
        "SELECT metadata FROM asset_runs WHERE asset = 'billing_events' ORDER BY started_at DESC LIMIT 1",
      );
      const metadata = typeof events?.metadata === 'string' ? JSON.parse(events.metadata) : events?.metadata;
      // a, d and e are plain: DuckDB takes them unless the setting asks for the JS parser
      // (PostgreSQL always parses in JS).
      expect(metadata?.nativeFiles ?? 0).toBe(native && TEST_BACKEND === 'duckdb' ? 3 : 0);
      const afterFirst = await ingestSnapshotOf(p);
      await load(p, second);
      snapshots.push([afterFirst, await ingestSnapshotOf(p)]);
    }
    const [native, js] = snapshots;
    expect(native?.[0]?.rows.billing_events).toHaveLength(11);
    expect(native?.[0]?.rows.rejected_rows).toHaveLength(1);
    expect(native).toEqual(js);
  });
});
