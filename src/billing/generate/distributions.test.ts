import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../../../test/support/tmp.js';
import { buildPopulation, hourlyCdf, SortedTimes, userCountFor } from './distributions.js';
import { generate } from './generator.js';
import { Rng } from './random.js';

interface Row {
  ts: string;
  user: string;
  credit: string;
  region: string;
  tier: string;
  op: string;
  success: string;
  type: string;
  currency: string;
  resource: string;
}

/** A week of clean data: weekdays and a weekend, so day-level shapes can be checked too. */
let rows: Row[] = [];
let files: string[][] = [];

beforeAll(async () => {
  const contents: string[] = [];
  await generate(
    {
      from: '2025-04-21',
      to: '2025-04-27',
      rowsPerDay: 20_000,
      seed: 2025,
      tmpDir: await tmpDir('distributions'),
    },
    async (_key, path) => {
      contents.push(await readFile(path, 'utf8'));
    },
  );
  files = contents.map((c) => c.trimEnd().split('\n').slice(1));
  rows = files.flat().map((line) => {
    const [
      ts = '',
      resource = '',
      user = '',
      credit = '',
      region = '',
      tier = '',
      op = '',
      success = '',
      type = '',
    ] = line.split(',');
    return {
      ts,
      resource,
      user,
      credit,
      region,
      tier,
      op,
      success,
      type,
      currency: line.split(',')[10] ?? '',
    };
  });
});

function share<T>(items: T[], predicate: (item: T) => boolean): number {
  return items.filter(predicate).length / items.length;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

describe('realism', () => {
  it('has a heavy tail: the top 10% of users own far more than 10% of rows', () => {
    const perUser = [...groupBy(rows, (r) => r.user).values()].map((g) => g.length).sort((a, b) => b - a);
    const top = perUser.slice(0, Math.ceil(userCountFor(20_000) / 10)).reduce((a, b) => a + b, 0);
    expect(top / rows.length).toBeGreaterThan(0.5);
    // ...while the population is still broad.
    expect(perUser.length).toBeGreaterThan(userCountFor(20_000) * 0.8);
  });

  it('keeps a user on one tier and currency, with a small pool of resources', () => {
    for (const group of groupBy(rows, (r) => r.user).values()) {
      expect(new Set(group.map((r) => r.tier)).size).toBe(1);
      expect(new Set(group.map((r) => r.currency)).size).toBe(1);
      expect(new Set(group.map((r) => r.resource)).size).toBeLessThanOrEqual(14);
    }
  });

  it('peaks in UTC business hours on weekdays', () => {
    const hour = (r: Row) => Number(r.ts.slice(11, 13));
    const weekday = rows.filter((r) => r.ts.slice(0, 10) <= '2025-04-25' && r.ts.endsWith('Z'));
    const business = share(weekday, (r) => hour(r) >= 9 && hour(r) < 18);
    const night = share(weekday, (r) => hour(r) < 6);
    expect(business).toBeGreaterThan(2.5 * night);
    const saturday = rows.filter((r) => r.ts.startsWith('2025-04-26'));
    expect(share(saturday, (r) => hour(r) >= 9 && hour(r) < 18)).toBeLessThan(business);
  });

  it('mixes regions by weight and ties currency to the account', () => {
    // Judged over resources and users rather than rows, which a few heavy accounts dominate.
    const resources = [...groupBy(rows, (r) => r.resource).values()].map((g) => g[0] as Row);
    const regionShare = (region: string) => share(resources, (r) => r.region === region);
    expect(new Set(resources.map((r) => r.region)).size).toBe(7);
    expect(regionShare('us-east-1')).toBeGreaterThan(0.25);
    expect(regionShare('us-east-1')).toBeGreaterThan(2 * regionShare('eu-central-1'));
    expect(regionShare('sa-east-1')).toBeLessThan(0.1);
    const users = [...groupBy(rows, (r) => r.user).values()].map((g) => g[0] as Row);
    expect(share(users, (r) => r.currency === 'USD')).toBeGreaterThan(0.5);
    for (const c of ['EUR', 'GBP', 'JPY'])
      expect(share(users, (r) => r.currency === c)).toBeGreaterThan(0.02);
    // JPY accounts live in Tokyo; most of their resources do too.
    const jpy = resources.filter((r) => r.currency === 'JPY');
    expect(share(jpy, (r) => r.region === 'ap-northeast-1')).toBeGreaterThan(0.6);
  });

  it('fails free-tier operations most and enterprise least', () => {
    const failure = (tier: string) =>
      share(
        rows.filter((r) => r.tier === tier),
        (r) => r.success === 'false',
      );
    expect(failure('free')).toBeGreaterThan(failure('standard'));
    expect(failure('standard')).toBeGreaterThan(failure('enterprise'));
    expect(failure('free')).toBeGreaterThan(0.03);
  });

  it('charges by operation, with about 0.5% refunds', () => {
    const refunds = share(rows, (r) => r.credit.startsWith('-'));
    expect(refunds).toBeGreaterThan(0.002);
    expect(refunds).toBeLessThan(0.01);
    const mean = (op: string) => {
      const xs = rows.filter((r) => r.op === op && r.success === 'true').map((r) => Number(r.credit));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(mean('compute')).toBeGreaterThan(10 * mean('read'));
    expect(share(rows, (r) => r.type === 'bucket' && r.op === 'compute')).toBe(0);
  });

  it('uses all timestamp styles, the +02:00 ones just after local midnight', () => {
    const offset = rows.filter((r) => r.ts.endsWith('+02:00'));
    expect(offset.length).toBeGreaterThan(0);
    for (const r of offset) expect(r.ts.slice(11, 13)).toBe('00');
    expect(share(rows, (r) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r.ts))).toBeGreaterThan(0.01);
    expect(share(rows, (r) => r.ts.endsWith('Z'))).toBeGreaterThan(0.95);
  });

  it('sorts each file by the wall-clock time written', () => {
    for (const lines of files) {
      const clocks = lines.map((l) => l.slice(11, 19));
      expect(clocks).toEqual([...clocks].sort());
    }
  });
});

describe('building blocks', () => {
  it('SortedTimes yields ascending times within the day, following the curve', () => {
    const n = 50_000;
    const times = new SortedTimes(new Rng(4), n, hourlyCdf(3));
    let previous = 0;
    let afternoon = 0;
    let misplaced = 0;
    for (let i = 0; i < n; i++) {
      const t = times.next();
      if (t < previous || t >= 86_400_000) misplaced++;
      if (t >= 13 * 3_600_000 && t < 17 * 3_600_000) afternoon++;
      previous = t;
    }
    expect(misplaced).toBe(0);
    const cdf = hourlyCdf(3);
    expect(afternoon / n).toBeCloseTo((cdf[17] ?? 0) - (cdf[13] ?? 0), 1);
  });

  it('scales the population with rowsPerDay', () => {
    expect(userCountFor(10)).toBe(50);
    expect(userCountFor(1_000_000)).toBe(50_000);
    const pop = buildPopulation(200, new Rng(1));
    expect(pop.userCount).toBe(200);
    expect(pop.resStart[200]).toBe(pop.resType.length);
  });
});
