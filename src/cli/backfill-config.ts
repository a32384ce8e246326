import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { addDays, type DayRange, dayOf, parseDayRange } from '../orchestrator/days.js';
import { UsageError } from './context.js';

/** Dagster's backfill config shape; loaded only for `backfill --config`, so other commands skip YAML and zod. */
const backfillConfig = z.object({
  ops: z.object({
    billing_files: z.object({
      config: z.object({
        from_date: z.union([z.string(), z.date()]),
        to_date: z.union([z.string(), z.date()]),
      }),
    }),
  }),
});

const RELATIVE_DAY = /^(today|yesterday)\s*(?:-\s*(\d+))?$/;

/**
 * A day of the config: YYYY-MM-DD, or relative to today in UTC (`today`, `yesterday`, `today-30`),
 * so a shipped example can name a moving window such as the demo's last 30 days.
 */
function dayText(value: string | Date, now: Date): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  const relative = RELATIVE_DAY.exec(value.trim());
  if (!relative) return value;
  const today = dayOf(now);
  const base = relative[1] === 'yesterday' ? addDays(today, -1) : today;
  return addDays(base, -Number(relative[2] ?? 0));
}

export async function readBackfillConfig(path: string, now: Date = new Date()): Promise<DayRange> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read backfill config ${path}: ${(error as Error).message}`);
  }
  const parsed = backfillConfig.safeParse(parseYaml(text));
  if (!parsed.success) {
    throw new UsageError(
      `${path} is not a backfill config: expected ops.billing_files.config.from_date and to_date (${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')})`,
    );
  }
  const { from_date, to_date } = parsed.data.ops.billing_files.config;
  return parseDayRange(dayText(from_date, now), dayText(to_date, now));
}
