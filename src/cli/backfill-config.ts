import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type DayRange, parseDayRange } from '../orchestrator/days.js';
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

const dayText = (value: string | Date) => (value instanceof Date ? value.toISOString().slice(0, 10) : value);

export async function readBackfillConfig(path: string): Promise<DayRange> {
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
  return parseDayRange(dayText(from_date), dayText(to_date));
}
