import { describe, expect, it } from 'vitest';
import { dayInZone, dueTicks, nextTick, previousDay, ticksBetween, validateCron } from './cron-ticks.js';
import { dailyPartitionSchedule, nextEvaluation } from './schedule.js';

const daily = { expression: '0 0 * * *', timezone: 'UTC' };
const at = (iso: string) => new Date(iso);

describe('cron ticks', () => {
  it('finds the next midnight strictly after a given instant', () => {
    expect(nextTick(daily, at('2025-04-23T10:00:00Z'))?.toISOString()).toBe('2025-04-24T00:00:00.000Z');
    expect(nextTick(daily, at('2025-04-24T00:00:00Z'))?.toISOString()).toBe('2025-04-25T00:00:00.000Z');
    expect(nextTick(daily, at('2025-12-31T23:59:59Z'))?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('reads the cron in its time zone, across DST changes', () => {
    const berlin = { expression: '0 0 * * *', timezone: 'Europe/Berlin' };
    // CET (+01:00) before the last Sunday of March, CEST (+02:00) after.
    expect(nextTick(berlin, at('2025-03-29T12:00:00Z'))?.toISOString()).toBe('2025-03-29T23:00:00.000Z');
    expect(nextTick(berlin, at('2025-03-30T12:00:00Z'))?.toISOString()).toBe('2025-03-30T22:00:00.000Z');
    expect(dayInZone(at('2025-03-30T22:00:00Z'), 'Europe/Berlin')).toBe('2025-03-31');
  });

  it('completes the previous day on month, leap-day and year boundaries', () => {
    expect(previousDay(at('2025-03-01T00:00:00Z'), 'UTC')).toBe('2025-02-28');
    expect(previousDay(at('2024-03-01T00:00:00Z'), 'UTC')).toBe('2024-02-29');
    expect(previousDay(at('2025-05-01T00:00:00Z'), 'UTC')).toBe('2025-04-30');
    expect(previousDay(at('2026-01-01T00:00:00Z'), 'UTC')).toBe('2025-12-31');
    // Midnight in Tokyo is 15:00 UTC the day before: the partition is Tokyo's previous day.
    expect(previousDay(at('2025-12-31T15:00:00Z'), 'Asia/Tokyo')).toBe('2025-12-31');
  });

  it('lists the ticks in a window, oldest first, capped', () => {
    const ticks = ticksBetween(daily, at('2025-12-30T00:00:00Z'), at('2026-01-02T00:00:00Z'));
    expect(ticks.map((t) => t.toISOString().slice(0, 10))).toEqual([
      '2025-12-31',
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(
      ticksBetween(
        { expression: '* * * * *', timezone: 'UTC' },
        at('2025-01-01T00:00:00Z'),
        at('2025-02-01T00:00:00Z'),
        5,
      ),
    ).toHaveLength(5);
  });

  it('rejects bad expressions with a message naming them', () => {
    expect(() => validateCron({ expression: 'every day', timezone: 'UTC' })).toThrow(
      /invalid cron "every day"/,
    );
    expect(() => validateCron({ expression: '0 0 * * *', timezone: 'Mars/Olympus' })).toThrow(/invalid cron/);
  });
});

describe('missed-tick policy', () => {
  it('starts a new schedule from now instead of replaying history', () => {
    const due = dueTicks(daily, null, at('2025-04-23T10:00:00Z'));
    expect(due.run).toBeNull();
    expect(due.cursor.toISOString()).toBe('2025-04-23T10:00:00.000Z');
  });

  it('runs nothing between ticks and exactly the due tick on time', () => {
    expect(dueTicks(daily, at('2025-04-23T00:00:00Z'), at('2025-04-23T23:59:59Z')).run).toBeNull();
    const due = dueTicks(daily, at('2025-04-23T00:00:00Z'), at('2025-04-24T00:00:00.500Z'));
    expect(due.run?.toISOString()).toBe('2025-04-24T00:00:00.000Z');
    expect(due.missedCount).toBe(0);
    expect(due.cursor.toISOString()).toBe('2025-04-24T00:00:00.000Z');
  });

  it('after downtime runs only the latest missed tick, once, and counts the rest', () => {
    // Down from Dec 29 to Jan 2 10:00: four midnights passed.
    const due = dueTicks(daily, at('2025-12-29T00:00:00Z'), at('2026-01-02T10:00:00Z'));
    expect(due.run?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(due.missedCount).toBe(3);
    expect(due.firstMissed?.toISOString()).toBe('2025-12-30T00:00:00.000Z');
    // Evaluating again from the new cursor finds nothing: no storm.
    expect(dueTicks(daily, due.cursor, at('2026-01-02T10:00:01Z')).run).toBeNull();
  });

  it('finds the latest tick after very long downtime of a frequent cron', () => {
    const minutely = { expression: '* * * * *', timezone: 'UTC' };
    const due = dueTicks(minutely, at('2025-01-01T00:00:00Z'), at('2025-01-03T12:34:56Z'));
    expect(due.run?.toISOString()).toBe('2025-01-03T12:34:00.000Z');
    expect(due.missedCount).toBeGreaterThanOrEqual(1000);
  });
});

describe('daily partition schedule', () => {
  const schedule = dailyPartitionSchedule({ name: 'daily_billing', cron: daily });

  it('requests the previous day with a run key naming it', () => {
    const [request] = schedule.requestsFor(at('2025-03-01T00:00:00Z'));
    expect(request).toMatchObject({
      range: { from: '2025-02-28', to: '2025-02-28' },
      runKey: 'daily_billing:2025-02-28',
      trigger: 'schedule:daily_billing',
    });
    expect(schedule.requestsFor(at('2026-01-01T00:00:00Z'))[0]?.runKey).toBe('daily_billing:2025-12-31');
  });

  it('is evaluated now when a tick is due, else at its next tick', () => {
    const cursor = '2025-04-23T00:00:00.000Z';
    expect(nextEvaluation(schedule, cursor, at('2025-04-23T08:00:00Z'))?.toISOString()).toBe(
      '2025-04-24T00:00:00.000Z',
    );
    expect(nextEvaluation(schedule, cursor, at('2025-04-25T08:00:00Z'))?.toISOString()).toBe(
      '2025-04-25T08:00:00.000Z',
    );
    expect(nextEvaluation(schedule, null, at('2025-04-25T08:00:00Z'))?.toISOString()).toBe(
      '2025-04-25T08:00:00.000Z',
    );
  });
});
