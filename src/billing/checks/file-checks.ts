import type { AssetCheckDefinition, CheckOutcome } from '../../orchestrator/asset-check.js';
import { addDays, dayOf } from '../../orchestrator/days.js';
import * as files from '../sql/files.js';
import * as sql from './check-sql.js';
import type { CheckSettings } from './quality-config.js';

const MINUTE_MS = 60_000;

/**
 * The latest day whose files are due: day D is expected by `expected_by` (UTC) on day D+1.
 * E.g. with 06:00, at 2025-04-24T07:00Z the latest due day is 2025-04-23; at 05:00 it is 2025-04-22.
 */
export function latestDueDay(now: Date, expectedBy: string): string {
  const [h = 0, m = 0] = expectedBy.split(':').map(Number);
  return dayOf(new Date(now.getTime() - (24 * 60 + h * 60 + m) * MINUTE_MS));
}

/** The checks on `billing_files`: freshness of the expected day partitions. */
export function fileChecks(options: { settings: CheckSettings; now: () => Date }): AssetCheckDefinition[] {
  const f = options.settings.freshness;
  if (!f.enabled) return [];
  return [
    {
      name: 'freshness',
      description: `Each day has at least one file by ${f.expected_by} UTC the next day (last ${f.lookback_days} day(s) checked)`,
      severity: f.severity,
      async evaluate(ctx) {
        const due = latestDueDay(options.now(), f.expected_by);
        const lookback: string[] = [];
        for (let i = f.lookback_days - 1; i >= 0; i--) lookback.push(addDays(due, -i));
        // Every day the verdicts may need, asked with the first day in one statement; the window
        // then starts at the first day as before.
        const candidates = [...new Set([...lookback, ...ctx.failing.filter((p): p is string => p !== null)])];
        if (candidates.length === 0) return [];
        const [found] = await ctx.warehouse.all<{ first_day: string | null; present: string | null }>(
          sql.FILE_DAYS,
          [candidates.join(',')],
        );
        // Nothing has ever arrived: there is no start date to expect days from.
        const firstDay = found?.first_day;
        if (!firstDay) return [];
        const window = lookback.filter((day) => day >= firstDay);
        const failing = ctx.failing.filter((p): p is string => p !== null && !window.includes(p));
        const days = [...window, ...failing];
        if (days.length === 0) return [];
        const present = new Set(found.present ? found.present.split(',') : []);
        const outcomes: CheckOutcome[] = [];
        for (const day of days) {
          const arrived = present.has(day);
          // Older failures are only re-reported once they are fixed, so a long outage adds one row a day, not one per run.
          if (!arrived && !window.includes(day)) continue;
          outcomes.push({
            partition: day,
            passed: arrived,
            observed: arrived ? 'arrived' : 'missing',
            threshold: `by ${addDays(day, 1)}T${f.expected_by}Z`,
            message: arrived
              ? null
              : `no file for ${day}, expected by ${addDays(day, 1)} ${f.expected_by} UTC`,
          });
        }
        return outcomes.sort((a, b) => String(a.partition).localeCompare(String(b.partition)));
      },
    },
  ];
}

/**
 * `duplicate_file` on `billing_events`: a file whose bytes equal a file already loaded (same size and
 * SHA-256) under another key. Evaluated for the partitions just written, those still failing, and
 * every day that has a copy now, so a copy that loaded nothing is still reported.
 */
export function duplicateFileChecks(settings: CheckSettings): AssetCheckDefinition[] {
  const d = settings.duplicate_file;
  if (!d.enabled) return [];
  return [
    {
      name: 'duplicate_file',
      description: `No file repeats the content of a file already loaded (copies are ${d.on_duplicate === 'reject' ? 'not loaded' : 'loaded'})`,
      severity: d.severity,
      async evaluate(ctx) {
        const copies = await ctx.warehouse.all<{
          partition: string;
          source_key: string;
          duplicate_of: string;
          status: string;
        }>(files.DUPLICATE_FILES);
        const byDay = new Map<string, typeof copies>();
        for (const c of copies) byDay.set(c.partition, [...(byDay.get(c.partition) ?? []), c]);
        const failing = ctx.failing.filter((p): p is string => p !== null);
        const days = [...new Set([...ctx.partitions, ...failing, ...byDay.keys()])].sort();
        return days.map((day): CheckOutcome => {
          const found = byDay.get(day) ?? [];
          const counted = found.filter((c) => c.status === 'loaded').length;
          const shown = found
            .slice(0, 3)
            .map((c) => `${c.source_key} (same content as ${c.duplicate_of})`)
            .join(', ');
          return {
            partition: day,
            passed: found.length === 0,
            observed: found.length,
            threshold: 0,
            message:
              found.length === 0
                ? null
                : `${found.length} file(s) repeat a file already loaded: ${shown}${found.length > 3 ? ', …' : ''}; ` +
                  (counted > 0
                    ? `${counted} counted twice (on_duplicate: load)`
                    : 'not counted again; delete the copy from the source, or retract it'),
          };
        });
      },
    },
  ];
}
