import type { Config } from '../config.js';
import type { DayRange } from '../orchestrator/days.js';

export interface RangeFiles {
  source: string;
  /** Billing files whose day is in the range. */
  inRange: number;
  /** The first and last day the source holds files for, over all of it; null when it holds none. */
  first: string | null;
  last: string | null;
}

/**
 * What the source holds for a range of days, from one listing. Null without a configured source
 * (the run then fails with its own message), and null when the listing fails: the run lists again
 * and reports that failure itself (through a daemon, with the daemon's credentials). A backfill of days without files would run every
 * asset per day and succeed at nothing; this lets the command say so before it starts.
 */
export async function sourceFilesInRange(config: Config, range: DayRange): Promise<RangeFiles | null> {
  if (!config.source) return null;
  const { createSource } = await import('../sources/create-source.js');
  const source = createSource(config.source, config.env);
  try {
    const found: RangeFiles = { source: source.uri, inRange: 0, first: null, last: null };
    for await (const file of source.list()) {
      if (file.partition >= range.from && file.partition <= range.to) found.inRange += 1;
      if (found.first === null || file.partition < found.first) found.first = file.partition;
      if (found.last === null || file.partition > found.last) found.last = file.partition;
    }
    return found;
  } catch {
    return null;
  } finally {
    await source.close();
  }
}

/** "no source files for A..B under S; nothing to backfill (it holds files for C..D)". */
export function emptyRangeMessage(found: RangeFiles, range: DayRange, what: string): string {
  const held =
    found.first === null
      ? 'it holds no billing files at all'
      : `it holds files for ${found.first}..${found.last}`;
  return `no source files for ${range.from}..${range.to} under ${found.source}; ${what} (${held})`;
}
