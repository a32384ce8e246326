import { describe, expect, it } from 'vitest';
import { classifyKey, inspectKey } from './partition-key.js';

const s3 = { datedNames: false };
const local = { datedNames: true };

describe('classifyKey', () => {
  it('dates Hive partitions, padded or not', () => {
    expect(classifyKey('year=2025/month=04/day=23/part-0.csv', s3)).toEqual({
      partition: '2025-04-23',
      gzip: false,
    });
    expect(classifyKey('year=2025/month=4/day=3/part-0.csv', s3)).toEqual({
      partition: '2025-04-03',
      gzip: false,
    });
  });

  it('finds the Hive folders below deeper prefixes and above deeper sub-folders', () => {
    expect(classifyKey('exports/billing/v2/year=2024/month=12/day=31/a.csv', s3)?.partition).toBe(
      '2024-12-31',
    );
    expect(classifyKey('year=2024/month=02/day=29/hour=13/a.csv', s3)?.partition).toBe('2024-02-29');
  });

  it('needs year, month and day as consecutive folders', () => {
    expect(classifyKey('year=2025/month=04/x/day=23/a.csv', s3)).toBeNull();
    expect(classifyKey('year=2025/month=04/a.csv', s3)).toBeNull();
    expect(classifyKey('day=23/month=04/year=2025/a.csv', s3)).toBeNull();
    // The file name is not a folder: `day=23.csv` does not complete the run.
    expect(classifyKey('year=2025/month=04/day=23.csv', s3)).toBeNull();
  });

  it('accepts .csv.gz and any case of the extension', () => {
    expect(classifyKey('year=2025/month=04/day=23/a.csv.gz', s3)).toEqual({
      partition: '2025-04-23',
      gzip: true,
    });
    expect(classifyKey('year=2025/month=04/day=23/A.CSV', s3)).toEqual({
      partition: '2025-04-23',
      gzip: false,
    });
    expect(classifyKey('year=2025/month=04/day=23/A.Csv.GZ', s3)).toEqual({
      partition: '2025-04-23',
      gzip: true,
    });
  });

  it('ignores markers, hidden files and other formats', () => {
    for (const name of [
      '_SUCCESS',
      '.DS_Store',
      '_part-0.csv',
      '.part-0.csv',
      'a.json',
      'a.csv.bak',
      'a.gz',
      'a.csv.zip',
    ]) {
      expect(classifyKey(`year=2025/month=04/day=23/${name}`, s3), name).toBeNull();
    }
  });

  it('rejects impossible dates', () => {
    expect(classifyKey('year=2025/month=13/day=01/a.csv', s3)).toBeNull();
    expect(classifyKey('year=2025/month=00/day=01/a.csv', s3)).toBeNull();
    expect(classifyKey('year=2025/month=04/day=31/a.csv', s3)).toBeNull();
    expect(classifyKey('year=2025/month=02/day=29/a.csv', s3)).toBeNull();
    expect(classifyKey('year=2025/month=04/day=0/a.csv', s3)).toBeNull();
    expect(classifyKey('year=25/month=04/day=01/a.csv', s3)).toBeNull();
  });

  it('dates files by name only for local folders', () => {
    expect(classifyKey('billing-2025-04-23.csv', local)).toEqual({ partition: '2025-04-23', gzip: false });
    expect(classifyKey('exports/acme-billing-2025-04-23.csv.gz', local)).toEqual({
      partition: '2025-04-23',
      gzip: true,
    });
    expect(classifyKey('2025-04-23.csv', local)?.partition).toBe('2025-04-23');
    expect(classifyKey('billing-2025-04-23.csv', s3)).toBeNull();
  });

  it('is strict about dated names', () => {
    expect(classifyKey('billing-2025-04-31.csv', local)).toBeNull();
    expect(classifyKey('billing-2025-04-23-v2.csv', local)).toBeNull();
    expect(classifyKey('billing2025-04-23.csv', local)).toBeNull();
    expect(classifyKey('billing-2025-4-23.csv', local)).toBeNull();
    expect(classifyKey('_billing-2025-04-23.csv', local)).toBeNull();
    expect(classifyKey('billing.csv', local)).toBeNull();
  });

  it('lets Hive folders win over a dated name, even when their date is invalid', () => {
    expect(classifyKey('year=2025/month=04/day=23/billing-2025-01-01.csv', local)?.partition).toBe(
      '2025-04-23',
    );
    expect(classifyKey('year=2025/month=04/day=31/billing-2025-04-30.csv', local)).toBeNull();
  });
});

describe('inspectKey', () => {
  it('gives the reason a CSV-looking key is not a billing file, and null for what is not data', () => {
    expect(inspectKey('year=2025/month=02/day=30/a.csv', s3)).toEqual({
      kind: 'skipped',
      reason: 'no such date: 2025-02-30 (from year=2025/month=02/day=30/)',
    });
    expect(inspectKey('x/year=2025/month=13/day=5/a.csv.gz', s3)).toEqual({
      kind: 'skipped',
      reason: 'no such date: 2025-13-05 (from year=2025/month=13/day=5/)',
    });
    expect(inspectKey('billing-2025-04-31.csv', local)).toEqual({
      kind: 'skipped',
      reason: 'no such date: 2025-04-31 (from the file name)',
    });
    expect(inspectKey('loose.csv', s3)).toEqual({
      kind: 'skipped',
      reason: 'no day in the key: expected year=YYYY/month=MM/day=DD/ folders above it',
    });
    expect(inspectKey('billing-2025-04-23-v2.csv', local)).toMatchObject({ kind: 'skipped' });
    expect(inspectKey('year=2025/month=04/day=23/a.csv', s3)).toEqual({
      kind: 'data',
      partition: '2025-04-23',
      gzip: false,
    });
    for (const key of ['_SUCCESS', 'year=2025/month=02/day=30/.a.csv', 'notes.json', '_tmp.csv']) {
      expect(inspectKey(key, local), key).toBeNull();
    }
  });
});
