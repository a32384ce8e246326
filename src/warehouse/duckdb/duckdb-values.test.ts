import { describe, expect, it } from 'vitest';
import { isoFromMicros } from './duckdb-values.js';

describe('isoFromMicros', () => {
  it('writes whole seconds without a fraction and keeps microseconds otherwise', () => {
    expect(isoFromMicros(0n)).toBe('1970-01-01T00:00:00Z');
    expect(isoFromMicros(1_745_402_400_000_000n)).toBe('2025-04-23T10:00:00Z');
    expect(isoFromMicros(1_745_402_400_000_001n)).toBe('2025-04-23T10:00:00.000001Z');
  });

  it('puts the fraction of a time before 1970 on the earlier second', () => {
    expect(isoFromMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(isoFromMicros(-1_000_000n)).toBe('1969-12-31T23:59:59Z');
    expect(isoFromMicros(-1_500_000n)).toBe('1969-12-31T23:59:58.500000Z');
  });
});
