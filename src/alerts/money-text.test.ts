import { describe, expect, it } from 'vitest';
import { formatAmount, money, scaledDecimal } from './money-text.js';

describe('alert amounts', () => {
  it('rounds exact decimals half away from zero and groups thousands', () => {
    expect(formatAmount('40120.504')).toBe('40,120.50');
    expect(formatAmount('40120.505')).toBe('40,120.51');
    expect(formatAmount('999.995')).toBe('1,000.00');
    expect(formatAmount('-1234567.125000')).toBe('-1,234,567.13');
    expect(formatAmount('-0.001')).toBe('0.00');
    expect(formatAmount('7')).toBe('7.00');
    expect(formatAmount('12345678901234567890.5')).toBe('12,345,678,901,234,567,890.50');
    expect(money(null, 'EUR')).toBe('unknown EUR');
    expect(money('50000', 'USD')).toBe('50,000.00 USD');
  });

  it('scales decimals exactly', () => {
    expect(scaledDecimal('0.802410', 6)).toBe(802410n);
    expect(scaledDecimal('1', 6)).toBe(1000000n);
    expect(scaledDecimal('-2.5', 2)).toBe(-250n);
    expect(scaledDecimal('abc', 2)).toBeNull();
  });
});
