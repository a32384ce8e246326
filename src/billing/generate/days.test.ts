import { describe, expect, it } from 'vitest';
import { dayNumber, dayString, eachDay, parseDay, parseDayRange, weekday } from './days.js';

describe('parseDay', () => {
  it('accepts real dates, leap days included', () => {
    expect(parseDay('2025-04-23')).toBe('2025-04-23');
    expect(parseDay('2024-02-29')).toBe('2024-02-29');
    expect(parseDay('2000-02-29')).toBe('2000-02-29');
  });

  it.each([
    ['2025-02-30', /no such calendar date/],
    ['2023-02-29', /no such calendar date/],
    ['1900-02-29', /no such calendar date/],
    ['2025-13-01', /no such calendar date/],
    ['2025-04-31', /no such calendar date/],
    ['2025-00-10', /no such calendar date/],
    ['2025-4-1', /expected a date as YYYY-MM-DD/],
    ['20250401', /expected a date as YYYY-MM-DD/],
    ['yesterday', /expected a date as YYYY-MM-DD/],
    ['', /expected a date as YYYY-MM-DD/],
    [' 2025-04-01', /expected a date as YYYY-MM-DD/],
  ])('rejects %j', (value, message) => {
    expect(() => parseDay(value)).toThrow(message);
  });

  it('names the bad value in the message', () => {
    expect(() => parseDay('2025-02-30')).toThrow('"2025-02-30"');
  });
});

describe('parseDayRange', () => {
  it('counts days inclusively', () => {
    expect(parseDayRange('2025-04-01', '2025-04-01').days).toBe(1);
    expect(parseDayRange('2024-12-30', '2025-01-02').days).toBe(4);
  });

  it('rejects from after to with both days in the message', () => {
    expect(() => parseDayRange('2025-04-02', '2025-04-01')).toThrow(
      'Invalid day range: "from" (2025-04-02) is after "to" (2025-04-01)',
    );
  });

  it('says which end is malformed', () => {
    expect(() => parseDayRange('2025-04-01', '2025-04-31')).toThrow(/"to" day "2025-04-31"/);
    expect(() => parseDayRange('x', '2025-04-01')).toThrow(/"from" day "x"/);
  });
});

describe('eachDay', () => {
  it('crosses month, year and leap-day boundaries', () => {
    expect([...eachDay('2024-02-27', '2024-03-01')]).toEqual([
      '2024-02-27',
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
    expect([...eachDay('2024-12-30', '2025-01-02')]).toEqual([
      '2024-12-30',
      '2024-12-31',
      '2025-01-01',
      '2025-01-02',
    ]);
  });

  it('yields a single day for from = to', () => {
    expect([...eachDay('2025-04-23', '2025-04-23')]).toEqual(['2025-04-23']);
  });

  it('throws on a reversed range when iterated', () => {
    expect(() => [...eachDay('2025-01-02', '2025-01-01')]).toThrow(/after/);
  });
});

describe('day numbers', () => {
  it('round-trip and know the weekday', () => {
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dayString(dayNumber('2025-04-23'))).toBe('2025-04-23');
    expect(weekday(dayNumber('2025-04-23'))).toBe(3); // a Wednesday
    expect(weekday(dayNumber('1969-12-28'))).toBe(0); // a Sunday, before the epoch
  });
});
