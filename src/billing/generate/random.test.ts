import { describe, expect, it } from 'vitest';
import { formatMicros, formatMicrosFull } from './format.js';
import { AliasTable, mixSeed, Rng } from './random.js';
import { ChunkWriter } from './writer.js';

describe('Rng', () => {
  it('repeats a sequence for a seed and differs between seeds', () => {
    const take = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 8 }, () => rng.u32());
    };
    expect(take(1)).toEqual(take(1));
    expect(take(1)).not.toEqual(take(2));
  });

  it('produces uniform floats in [0, 1)', () => {
    const rng = new Rng(99);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.float();
      if (!(x >= 0 && x < 1)) outside++;
      buckets[Math.floor(x * 10)] = (buckets[Math.floor(x * 10)] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});

describe('mixSeed', () => {
  it('separates seeds that share their low 32 bits, negatives and argument order', () => {
    const seeds = [
      mixSeed(1),
      mixSeed(2 ** 32 + 1),
      mixSeed(-1),
      mixSeed(2 ** 32 - 1),
      mixSeed(1, 2),
      mixSeed(2, 1),
    ];
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(mixSeed(5, 6)).toBe(mixSeed(5, 6));
  });
});

describe('AliasTable', () => {
  it('picks in proportion to the weights and never picks a zero weight', () => {
    const table = new AliasTable([1, 0, 3, 6]);
    const rng = new Rng(3);
    const counts = [0, 0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const k = table.pick(rng);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[0] ?? 0) / n).toBeCloseTo(0.1, 2);
    expect((counts[2] ?? 0) / n).toBeCloseTo(0.3, 2);
    expect((counts[3] ?? 0) / n).toBeCloseTo(0.6, 2);
  });

  it('rejects empty or all-zero weights', () => {
    expect(() => new AliasTable([])).toThrow();
    expect(() => new AliasTable([0, 0])).toThrow();
  });
});

describe('decimal formatting', () => {
  it('formats micro-units exactly', () => {
    expect(formatMicros(0)).toBe('0');
    expect(formatMicros(1)).toBe('0.000001');
    expect(formatMicros(-7)).toBe('-0.000007');
    expect(formatMicros(1_250_000)).toBe('1.25');
    expect(formatMicros(3_000_000)).toBe('3');
    expect(formatMicros(300_000)).toBe('0.3');
    expect(formatMicros(123_456_789_012)).toBe('123456.789012');
    expect(formatMicrosFull(1_250_000)).toBe('1.250000');
    expect(formatMicrosFull(-5)).toBe('-0.000005');
  });

  it('writes the same bytes as the string formatter', () => {
    const rng = new Rng(11);
    const values = [0, 1, -1, 10, 999_999, 1_000_000, -1_000_000, 20_000_000, 1_000_001];
    for (let i = 0; i < 5000; i++)
      values.push(Math.floor(rng.float() * 10 ** (1 + rng.below(10))) * (rng.chance(0.1) ? -1 : 1));
    const out = new ChunkWriter(1 << 20);
    for (const v of values) {
      out.micros(v);
      out.byte(10);
    }
    expect(out.take().toString('latin1')).toBe(values.map((v) => `${formatMicros(v)}\n`).join(''));
  });
});

describe('ChunkWriter', () => {
  it('writes integers, clocks and ranges', () => {
    const out = new ChunkWriter(1024);
    out.uint(0);
    out.byte(44);
    out.uint(9_007_199_254_740_991);
    out.byte(44);
    out.clockMillis(86_399_999);
    out.byte(44);
    out.clock(3_723_000);
    out.byte(44);
    out.range(Buffer.from('abcdef'), 1, 4);
    out.text('+ü');
    expect(out.take().toString('latin1')).toBe('0,9007199254740991,23:59:59.999,01:02:03,bcd+ü');
  });

  it('reports full at the threshold and alternates between two buffers', () => {
    const out = new ChunkWriter(4, 16);
    out.text('abc');
    expect(out.full).toBe(false);
    out.text('d');
    expect(out.full).toBe(true);
    const first = out.take();
    out.text('x');
    // The previous chunk survives exactly one more take: enough to write it while filling the next.
    expect(first.toString()).toBe('abcd');
    const second = out.take();
    expect(second.toString()).toBe('x');
    out.text('yz');
    out.take();
    // ...and is overwritten by the one after.
    expect(first.toString()).toBe('yzcd');
  });
});
