import { describe, expect, it } from 'vitest';
import { addDays, dayCount, eachDay, parseDay, parseDayRange } from './days.js';

describe('days', () => {
  it('validates real calendar days only', () => {
    expect(parseDay('2024-02-29')).toBe('2024-02-29');
    expect(() => parseDay('2025-02-29')).toThrow(/not a valid date/);
    expect(() => parseDay('2025-4-1')).toThrow(/YYYY-MM-DD/);
    expect(() => parseDayRange('2025-04-02', '2025-04-01')).toThrow(/after/);
  });

  it('walks ranges across month and year ends', () => {
    expect([...eachDay({ from: '2024-12-30', to: '2025-01-02' })]).toEqual([
      '2024-12-30',
      '2024-12-31',
      '2025-01-01',
      '2025-01-02',
    ]);
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(dayCount({ from: '2025-01-01', to: '2025-12-31' })).toBe(365);
  });
});
