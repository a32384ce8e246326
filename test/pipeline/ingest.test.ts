import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { csv, HEADER, row, testPipeline } from '../support/pipeline.js';

const DAY = 'year=2025/month=04/day=23';

describe('ingest: row rules', () => {
  it('rejects each bad row with its physical line and reason, and loads the good rows', async () => {
    const p = await testPipeline('rules');
    const lines = [
      row({ user_id: '1' }), // line 2: good
      row({ timestamp: '' }), // 3
      row({ timestamp: '2025-02-30 10:00:00' }), // 4: impossible date
      row({ timestamp: '23/04/2025 10:00' }), // 5: not ISO
      row({ timestamp: '2025-04-23' }), // 6: date only
      row({ user_id: 'u42' }), // 7
      row({ credit_usage: '1.1234567' }), // 8: 7 fraction digits
      row({ credit_usage: 'abc' }), // 9
      row({ success: 'maybe' }), // 10
      `${row()},extra`, // 11: field count
      row({ user_id: '2', success: 'Y', credit_usage: '-0.000001' }), // 12: good
      row({ user_id: '3', timestamp: '2025-04-23T01:30:00+02:00', success: 'no' }), // 13: good, previous UTC day
    ];
    await p.put(`${DAY}/a.csv`, csv(...lines));
    const summary = await p.materialize();
    expect(summary.status).toBe('success');

    const rejected = await p.rows('SELECT line_number, reason, raw FROM rejected_rows ORDER BY line_number');
    expect(rejected.map((r) => r.line_number)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const reasons = rejected.map((r) => String(r.reason));
    expect(reasons[0]).toMatch(/timestamp/);
    expect(reasons[1]).toMatch(/timestamp/);
    expect(reasons[4]).toMatch(/user_id/);
    expect(reasons[5]).toMatch(/credit_usage/);
    expect(reasons[6]).toMatch(/credit_usage/);
    expect(reasons[7]).toMatch(/success/);
    expect(reasons[8]).toMatch(/12/);
    expect(rejected[8]?.raw).toBe(lines[9]);

    const events = await p.rows(
      'SELECT source_line, user_id, credit_usage, success, "timestamp", event_date, year, month, day FROM billing_events ORDER BY source_line',
    );
    expect(events).toEqual([
      {
        source_line: 2,
        user_id: 1,
        credit_usage: '1.500000',
        success: true,
        timestamp: '2025-04-23T10:00:00Z',
        event_date: '2025-04-23',
        year: 2025,
        month: 4,
        day: 23,
      },
      {
        source_line: 12,
        user_id: 2,
        credit_usage: '-0.000001',
        success: true,
        timestamp: '2025-04-23T10:00:00Z',
        event_date: '2025-04-23',
        year: 2025,
        month: 4,
        day: 23,
      },
      {
        source_line: 13,
        user_id: 3,
        credit_usage: '1.500000',
        success: false,
        timestamp: '2025-04-22T23:30:00Z',
        event_date: '2025-04-22',
        year: 2025,
        month: 4,
        day: 23,
      },
    ]);
    const [file] = await p.rows('SELECT status, row_count, rejected_row_count FROM billing_files');
    expect(file).toEqual({ status: 'loaded', row_count: 3, rejected_row_count: 9 });
  });

  it('handles BOM, CRLF, any column order, extra columns, quoting and embedded newlines', async () => {
    const p = await testPipeline('format');
    const header =
      'Currency, INVOICE_ID ,resource_type,success,operation_type,service_tier,region,credit_usage,user_id,resource_id,timestamp,note';
    const body = [
      `\uFEFF${header}`,
      'EUR,INV-9,vm,true,compute,standard,"us-east-1",2.25,7,"res,with,commas",2025-04-23 08:00:00,"say ""hi"""',
      'EUR,INV-9,vm,true,compute,standard,us-east-1,0.75,7,res-2,2025-04-23T09:00:00.123456Z,"two',
      'lines"',
      'EUR,,vm,true,compute,standard,,1,8,res-3,2025-04-23T09:30:00Z,',
    ].join('\r\n');
    await p.put(`${DAY}/b.csv`, `${body}\r\n`);
    await p.materialize();
    const events = await p.rows(
      'SELECT source_line, resource_id, currency, invoice_id, region, credit_usage, "timestamp" FROM billing_events ORDER BY source_line',
    );
    expect(events).toEqual([
      {
        source_line: 2,
        resource_id: 'res,with,commas',
        currency: 'EUR',
        invoice_id: 'INV-9',
        region: 'us-east-1',
        credit_usage: '2.250000',
        timestamp: '2025-04-23T08:00:00Z',
      },
      {
        source_line: 3,
        resource_id: 'res-2',
        currency: 'EUR',
        invoice_id: 'INV-9',
        region: 'us-east-1',
        credit_usage: '0.750000',
        timestamp: '2025-04-23T09:00:00.123456Z',
      },
      {
        source_line: 5,
        resource_id: 'res-3',
        currency: 'EUR',
        invoice_id: null,
        region: null,
        credit_usage: '1.000000',
        timestamp: '2025-04-23T09:30:00Z',
      },
    ]);
    expect(await p.rows('SELECT count(*) AS n FROM rejected_rows')).toEqual([{ n: 0 }]);
  });
});

describe('ingest: whole files', () => {
  it('rejects a file missing columns, keeps going, and loads empty files as zero rows', async () => {
    const p = await testPipeline('files');
    await p.put(`${DAY}/good.csv`, csv(row()));
    await p.put(`${DAY}/missing.csv`, 'timestamp,user_id,credit_usage\n2025-04-23T10:00:00Z,1,1.0\n');
    await p.put(`${DAY}/header-only.csv`, `${HEADER}\n`);
    await p.put(`${DAY}/empty.csv`, '');
    await p.put(`${DAY}/zipped.csv.gz`, gzipSync(csv(row({ user_id: '5' }))));
    await p.put(`${DAY}/broken.csv.gz`, Buffer.from('not gzip at all'));
    const summary = await p.materialize();
    expect(summary.status).toBe('success');
    const rejectedFiles = await p.rows('SELECT source_key, reason FROM rejected_files ORDER BY source_key');
    expect(rejectedFiles.map((r) => r.source_key)).toEqual([`${DAY}/broken.csv.gz`, `${DAY}/missing.csv`]);
    expect(String(rejectedFiles[1]?.reason)).toMatch(/resource_id.*region.*currency/);
    expect(String(rejectedFiles[0]?.reason)).toMatch(/gzip/);
    const perFile = await p.rows(
      'SELECT source_key, status, row_count FROM billing_files ORDER BY source_key',
    );
    expect(perFile).toEqual([
      { source_key: `${DAY}/broken.csv.gz`, status: 'rejected', row_count: null },
      { source_key: `${DAY}/empty.csv`, status: 'loaded', row_count: 0 },
      { source_key: `${DAY}/good.csv`, status: 'loaded', row_count: 1 },
      { source_key: `${DAY}/header-only.csv`, status: 'loaded', row_count: 0 },
      { source_key: `${DAY}/missing.csv`, status: 'rejected', row_count: null },
      { source_key: `${DAY}/zipped.csv.gz`, status: 'loaded', row_count: 1 },
    ]);
    // A rejected version is not retried until it changes.
    const again = await p.materialize();
    const events = again.assets.find((a) => a.asset === 'billing_events');
    expect(events?.result?.changed).toBe(false);
  });

  it('finds partitions however they are written, records CSV keys without a day and ignores other files', async () => {
    const p = await testPipeline('discovery');
    await p.put('exports/year=2025/month=4/day=3/x.csv', csv(row({ timestamp: '2025-04-03T10:00:00Z' })));
    await p.put('year=2025/month=04/day=05/y.CSV', csv(row({ timestamp: '2025-04-05T10:00:00Z' })));
    await p.put('year=2025/month=04/day=05/_SUCCESS', '');
    await p.put('year=2025/month=04/day=05/.DS_Store', 'junk');
    await p.put('year=2025/month=04/day=05/notes.json', '{}');
    await p.put('year=2025/month=13/day=05/bad-date.csv', csv(row()));
    await p.put('loose.csv', csv(row()));
    await p.materialize();
    const files = await p.rows(
      'SELECT source_key, CAST(partition AS VARCHAR) AS p, status, error FROM billing_files ORDER BY source_key',
    );
    // A CSV-looking key without a (valid) day is recorded with its reason, never silently dropped.
    expect(files).toEqual([
      { source_key: 'exports/year=2025/month=4/day=3/x.csv', p: '2025-04-03', status: 'loaded', error: null },
      {
        source_key: 'loose.csv',
        p: null,
        status: 'rejected',
        error: 'no day in the key: expected year=YYYY/month=MM/day=DD/ folders above it',
      },
      { source_key: 'year=2025/month=04/day=05/y.CSV', p: '2025-04-05', status: 'loaded', error: null },
      {
        source_key: 'year=2025/month=13/day=05/bad-date.csv',
        p: null,
        status: 'rejected',
        error: 'no such date: 2025-13-05 (from year=2025/month=13/day=05/)',
      },
    ]);
  });
});
