import { SCHEMA_COLUMNS } from '../schema.js';
import { clockSeconds, formatMicrosFull, millis, pad2 } from './format.js';
import type { Rng } from './random.js';

/** The kinds of malformed row the generator produces, used in rotation so every kind shows up. */
export const DIRTY_KINDS = [
  'impossible-date',
  'non-iso-timestamp',
  'empty-timestamp',
  'non-integer-user-id',
  'too-many-fraction-digits',
  'non-decimal-credit',
  'bad-boolean',
  'wrong-field-count',
] as const;
export type DirtyKind = (typeof DIRTY_KINDS)[number];

const TIMESTAMP = SCHEMA_COLUMNS.indexOf('timestamp');
const USER_ID = SCHEMA_COLUMNS.indexOf('user_id');
const CREDIT = SCHEMA_COLUMNS.indexOf('credit_usage');
const SUCCESS = SCHEMA_COLUMNS.indexOf('success');

// Values chosen to be rejected by any reasonable parser, including lenient ones such as DuckDB's casts
// (which accept e.g. "1e3" as a number or "1"/"t" as booleans), so they are unambiguously malformed.
const NON_DECIMALS = ['abc', 'N/A', '1.2.3', '--5', 'twelve'] as const;
const BAD_BOOLEANS = ['maybe', 'unknown', 'tru', 'yes?'] as const;

/** What a dirty row is derived from: a clean row's fields plus the raw values behind them. */
export interface RowSource {
  /** The 11 clean fields in {@link SCHEMA_COLUMNS} order; modified in place. */
  fields: string[];
  /** `YYYY-MM-DD` of the partition. */
  day: string;
  /** Millisecond of the day of the event. */
  time: number;
  userId: number;
  micros: number;
}

function pick<T>(values: readonly T[], rng: Rng): T {
  return values[rng.below(values.length)] as T;
}

/** The CSV line (without newline) of a row made malformed in the way `kind` describes. */
export function dirtyLine(kind: number, row: RowSource, rng: Rng): string {
  const f = row.fields;
  const year = row.day.slice(0, 4);
  const month = row.day.slice(5, 7);
  const dayOfMonth = row.day.slice(8, 10);
  const clock = `${clockSeconds(row.time)}.${millis(row.time)}`;
  switch (DIRTY_KINDS[kind]) {
    case 'impossible-date': {
      const variant = rng.below(3);
      const date =
        variant === 0
          ? `${year}-02-30`
          : variant === 1
            ? `${year}-13-${dayOfMonth}`
            : `${year}-${month}-${pad2(32 + rng.below(8))}`;
      f[TIMESTAMP] = `${date}T${clock}Z`;
      break;
    }
    case 'non-iso-timestamp':
      f[TIMESTAMP] = `${dayOfMonth}/${month}/${year} ${clockSeconds(row.time).slice(0, 5)}`;
      break;
    case 'empty-timestamp':
      f[TIMESTAMP] = '';
      break;
    case 'non-integer-user-id':
      f[USER_ID] = rng.chance(0.5) ? `u${row.userId}` : `${row.userId}.5`;
      break;
    case 'too-many-fraction-digits':
      f[CREDIT] = `${formatMicrosFull(row.micros)}${1 + rng.below(9)}`;
      break;
    case 'non-decimal-credit':
      f[CREDIT] = pick(NON_DECIMALS, rng);
      break;
    case 'bad-boolean':
      f[SUCCESS] = pick(BAD_BOOLEANS, rng);
      break;
    case 'wrong-field-count':
      if (rng.chance(0.5)) f.push('unexpected');
      else f.splice(1 + rng.below(f.length - 1), 1);
      break;
    default:
      throw new Error(`unknown dirty kind index ${kind}`);
  }
  return f.join(',');
}
