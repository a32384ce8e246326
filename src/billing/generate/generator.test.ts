import { readdir, readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../../test/support/tmp.js';
import { SCHEMA_COLUMNS } from '../schema.js';
import { DIRTY_KINDS } from './dirty.js';
import { type GeneratedFile, type GenerateOptions, generate, planFiles } from './generator.js';

const HEADER = SCHEMA_COLUMNS.join(',');

type Output = {
  files: Map<string, Buffer>;
  result: Awaited<ReturnType<typeof generate>>;
  reported: GeneratedFile[];
};

async function run(options: Omit<GenerateOptions, 'tmpDir'>): Promise<Output> {
  const files = new Map<string, Buffer>();
  const reported: GeneratedFile[] = [];
  const result = await generate(
    { ...options, tmpDir: await tmpDir('generate') },
    async (key, path) => {
      files.set(key, await readFile(path));
    },
    (f) => reported.push(f),
  );
  return { files, result, reported };
}

function dataLines(content: Buffer): string[] {
  const lines = content.toString('utf8').split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.shift()).toBe(HEADER);
  return lines;
}

// An independent, deliberately strict reading of the schema: what any clean row must satisfy.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})\.\d{3}(?:Z|[+-]\d{2}:\d{2})| (\d{2}):(\d{2}):(\d{2}))$/;
const REGIONS = new Set([
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-southeast-1',
  'ap-northeast-1',
  'sa-east-1',
]);
const TIERS = new Set(['free', 'standard', 'premium', 'enterprise']);
const OPERATIONS = new Set(['compute', 'storage', 'read', 'write', 'transfer', 'query']);
const RESOURCE_TYPES = new Set(['vm', 'bucket', 'database', 'function', 'cache', 'queue']);
const CURRENCIES = new Set(['USD', 'EUR', 'GBP', 'JPY']);

function realDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function timestampOk(ts: string): boolean {
  const m = ISO.exec(ts);
  if (!m) return false;
  const [h, min, s] = (m[4] !== undefined ? [m[4], m[5], m[6]] : [m[7], m[8], m[9]]).map(Number);
  return (
    realDate(Number(m[1]), Number(m[2]), Number(m[3])) && (h ?? 99) < 24 && (min ?? 99) < 60 && (s ?? 99) < 60
  );
}

/** The dirty kind a line shows, 'clean', or 'unexplained' for a failure no kind accounts for. */
function classify(line: string): string {
  const f = line.split(',');
  if (f.length !== 11) return 'wrong-field-count';
  const [
    ts = '',
    resource = '',
    user = '',
    credit = '',
    region = '',
    tier = '',
    op = '',
    ok = '',
    type = '',
  ] = f;
  const [invoice = '', currency = ''] = f.slice(9);
  if (ts === '') return 'empty-timestamp';
  if (/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/.test(ts)) return 'non-iso-timestamp';
  if (ISO.test(ts) && !timestampOk(ts)) return 'impossible-date';
  if (!/^\d+$/.test(user)) return 'non-integer-user-id';
  if (/^-?\d+\.\d{7,}$/.test(credit)) return 'too-many-fraction-digits';
  if (!/^-?\d+(\.\d{1,6})?$/.test(credit)) return 'non-decimal-credit';
  if (ok !== 'true' && ok !== 'false') return 'bad-boolean';
  const clean =
    timestampOk(ts) &&
    /^res-[0-9a-f]{16}$/.test(resource) &&
    REGIONS.has(region) &&
    TIERS.has(tier) &&
    OPERATIONS.has(op) &&
    RESOURCE_TYPES.has(type) &&
    /^INV-\d{6}-\d+$/.test(invoice) &&
    CURRENCIES.has(currency);
  return clean ? 'clean' : 'unexplained';
}

describe('generate: layout', () => {
  it('names keys by day and part and splits rows across files', async () => {
    const { files, result, reported } = await run({
      from: '2025-04-23',
      to: '2025-04-24',
      rowsPerDay: 1001,
      seed: 1,
      filesPerDay: 3,
    });
    const keys = [
      'year=2025/month=04/day=23/billing-2025-04-23-part-000.csv',
      'year=2025/month=04/day=23/billing-2025-04-23-part-001.csv',
      'year=2025/month=04/day=23/billing-2025-04-23-part-002.csv',
      'year=2025/month=04/day=24/billing-2025-04-24-part-000.csv',
      'year=2025/month=04/day=24/billing-2025-04-24-part-001.csv',
      'year=2025/month=04/day=24/billing-2025-04-24-part-002.csv',
    ];
    expect([...files.keys()]).toEqual(keys);
    expect(result.files.map((f) => f.key)).toEqual(keys);
    expect(reported).toEqual(result.files);
    expect(result.files.map((f) => f.rows)).toEqual([334, 334, 333, 334, 334, 333]);
    expect(result.rows).toBe(2002);
    for (const f of result.files) {
      const content = files.get(f.key) as Buffer;
      expect(f.bytes).toBe(content.length);
      expect(dataLines(content)).toHaveLength(f.rows);
    }
  });

  it('crosses month and year boundaries, and invoices follow the month', async () => {
    const { files } = await run({ from: '2024-12-31', to: '2025-01-01', rowsPerDay: 200, seed: 3 });
    const dec = dataLines(files.get('year=2024/month=12/day=31/billing-2024-12-31-part-000.csv') as Buffer);
    const jan = dataLines(files.get('year=2025/month=01/day=01/billing-2025-01-01-part-000.csv') as Buffer);
    expect(dec.every((l) => l.startsWith('2024-12-31') && l.includes(',INV-202412-'))).toBe(true);
    expect(jan.every((l) => l.startsWith('2025-01-01') && l.includes(',INV-202501-'))).toBe(true);
    const leap = await run({ from: '2024-02-28', to: '2024-03-01', rowsPerDay: 10, seed: 3 });
    expect([...leap.files.keys()].map((k) => k.split('/').slice(0, 3).join('/'))).toEqual([
      'year=2024/month=02/day=28',
      'year=2024/month=02/day=29',
      'year=2024/month=03/day=01',
    ]);
  });

  it('writes header-only files for zero rows', async () => {
    const { files, result } = await run({ from: '2025-04-23', to: '2025-04-23', rowsPerDay: 0, seed: 1 });
    expect(result.rows).toBe(0);
    expect([...files.values()][0]?.toString()).toBe(`${HEADER}\n`);
  });

  it('removes its temp files and folder', async () => {
    const dir = await tmpDir('generate-cleanup');
    await generate(
      { from: '2025-04-23', to: '2025-04-24', rowsPerDay: 50, seed: 1, tmpDir: dir },
      async () => {},
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('propagates a failing write after cleaning up, without calling write again', async () => {
    const dir = await tmpDir('generate-fail');
    const calls: string[] = [];
    const failing = generate(
      { from: '2025-04-01', to: '2025-04-05', rowsPerDay: 50, seed: 1, tmpDir: dir },
      async (key) => {
        calls.push(key);
        throw new Error('upload refused');
      },
    );
    await expect(failing).rejects.toThrow('upload refused');
    expect(calls).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('generate: reproducibility', () => {
  const options = {
    from: '2025-04-23',
    to: '2025-04-25',
    rowsPerDay: 3000,
    seed: 42,
    dirtyRate: 0.01,
    filesPerDay: 2,
  };

  it('writes byte-identical files for the same options and different ones for another seed', async () => {
    const a = await run(options);
    const b = await run(options);
    const c = await run({ ...options, seed: 43 });
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [key, content] of a.files) {
      expect(content.equals(b.files.get(key) as Buffer)).toBe(true);
      expect(content.equals(c.files.get(key) as Buffer)).toBe(false);
    }
  });

  it('generates each day independently of the range around it', async () => {
    const all = await run(options);
    const one = await run({ ...options, from: '2025-04-24', to: '2025-04-24' });
    for (const [key, content] of one.files) expect(content.equals(all.files.get(key) as Buffer)).toBe(true);
  });

  it('changes only the dirty rows when dirtyRate changes', async () => {
    const clean = await run({ ...options, dirtyRate: 0 });
    const dirty = await run({ ...options, dirtyRate: 0.1 });
    for (const [key, content] of clean.files) {
      const a = dataLines(content);
      const b = dataLines(dirty.files.get(key) as Buffer);
      expect(b).toHaveLength(a.length);
      const changed = a.filter((line, i) => line !== b[i]).length;
      expect(changed).toBe(dirty.result.files.find((f) => f.key === key)?.dirtyRows);
    }
  });

  it('writes identical gzip bytes for the same options', async () => {
    const a = await run({ ...options, gzip: true });
    const b = await run({ ...options, gzip: true });
    for (const [key, content] of a.files) expect(content.equals(b.files.get(key) as Buffer)).toBe(true);
  });

  it('gzips to the same content as plain output', async () => {
    const plain = await run(options);
    const gz = await run({ ...options, gzip: true });
    expect([...gz.files.keys()]).toEqual([...plain.files.keys()].map((k) => `${k}.gz`));
    for (const [key, content] of plain.files) {
      const compressed = gz.files.get(`${key}.gz`) as Buffer;
      expect(compressed.length).toBeLessThan(content.length / 2);
      expect(gunzipSync(compressed).equals(content)).toBe(true);
    }
    expect(gz.result.rows).toBe(plain.result.rows);
  });
});

describe('generate: row validity', () => {
  it('writes only rows that pass a strict check when dirtyRate is 0', async () => {
    const { files } = await run({ from: '2025-04-26', to: '2025-04-28', rowsPerDay: 5000, seed: 9 });
    for (const content of files.values()) {
      const bad = dataLines(content).filter((l) => classify(l) !== 'clean');
      expect(bad).toEqual([]);
    }
  });

  it('makes dirtyRate of the rows malformed, every kind well represented', async () => {
    const rate = 0.08;
    const { files, result } = await run({
      from: '2025-04-23',
      to: '2025-04-24',
      rowsPerDay: 5000,
      seed: 5,
      dirtyRate: rate,
    });
    const counts = new Map<string, number>();
    for (const content of files.values()) {
      for (const line of dataLines(content))
        counts.set(classify(line), (counts.get(classify(line)) ?? 0) + 1);
    }
    expect(counts.get('unexplained')).toBeUndefined();
    const dirty = result.rows - (counts.get('clean') ?? 0);
    expect(dirty).toBe(result.dirtyRows);
    expect(dirty / result.rows).toBeCloseTo(rate, 3);
    // Kinds rotate, so each gets about 1/8 of the dirty rows (800 / 8 = 100 here).
    for (const kind of DIRTY_KINDS) expect(counts.get(kind) ?? 0).toBeGreaterThanOrEqual(90);
  });

  it('counts dirty rows exactly per file, including tiny files', async () => {
    const { result } = await run({
      from: '2025-04-23',
      to: '2025-04-23',
      rowsPerDay: 30,
      seed: 5,
      dirtyRate: 0.5,
      filesPerDay: 4,
    });
    expect(result.files.map((f) => f.dirtyRows)).toEqual([4, 4, 4, 4]);
    expect(result.dirtyRows).toBe(16);
  });
});

describe('generate: options', () => {
  it.each([
    [{ from: '2025-04-02', to: '2025-04-01' }, /after/],
    [{ from: '2025-02-30' }, /no such calendar date/],
    [{ rowsPerDay: -1 }, /rowsPerDay/],
    [{ rowsPerDay: 1.5 }, /rowsPerDay/],
    [{ seed: Number.NaN }, /seed/],
    [{ dirtyRate: 1.5 }, /dirtyRate/],
    [{ filesPerDay: 0 }, /filesPerDay/],
    [{ filesPerDay: 1001 }, /filesPerDay/],
  ])('rejects %j', (override, message) => {
    const base = { from: '2025-04-01', to: '2025-04-01', rowsPerDay: 10, seed: 1, tmpDir: '/nonexistent' };
    expect(() => planFiles({ ...base, ...override })).toThrow(message);
  });

  it('validates before touching the file system or calling write', async () => {
    let called = false;
    const bad = generate(
      { from: 'x', to: '2025-04-01', rowsPerDay: 1, seed: 1, tmpDir: '/nonexistent/dir' },
      async () => {
        called = true;
      },
    );
    await expect(bad).rejects.toThrow(/"from" day "x"/);
    expect(called).toBe(false);
  });
});
