/** How a key maps onto the pipeline: the day it belongs to and whether it must be gunzipped. */
export interface KeyClass {
  /** `YYYY-MM-DD`. */
  partition: string;
  gzip: boolean;
}

const DATA_FILE = /\.csv(\.gz)?$/i;
const YEAR = /^year=(\d{4})$/;
const MONTH = /^month=(\d{1,2})$/;
const DAY = /^day=(\d{1,2})$/;
// The name must end in the date so `report-2025-04-23-v2.csv` is not silently assigned a day.
const DATED_NAME = /^(?:.*-)?(\d{4})-(\d{2})-(\d{2})\.csv(?:\.gz)?$/i;

/**
 * What a key is to the pipeline: a billing file of a day, a CSV-looking key that cannot be one (with
 * the reason, so it is recorded rather than silently dropped), or `null` for what is not data at all
 * (other formats, `_SUCCESS`, `.DS_Store`, `._foo.csv` from macOS).
 */
export type KeyVerdict = ({ kind: 'data' } & KeyClass) | { kind: 'skipped'; reason: string };

/**
 * Decides whether `key` (relative, `/`-separated) is a billing file and which day it belongs to.
 *
 * `datedNames` also accepts `…-YYYY-MM-DD.csv` names outside Hive folders; it is meant for local
 * folders where people drop exported files by hand, not for S3 where layout is Hive only.
 */
export function inspectKey(key: string, options: { datedNames: boolean }): KeyVerdict | null {
  const segments = key.split('/');
  const name = segments[segments.length - 1] ?? '';
  if (name.startsWith('.') || name.startsWith('_')) return null;
  const ext = DATA_FILE.exec(name);
  if (!ext) return null;
  const gzip = ext[1] !== undefined;

  const hive = findHiveDay(segments.slice(0, -1));
  if (hive !== undefined) {
    // A Hive path with an impossible date is corrupt data, not an invitation to guess from the name.
    if (hive.day === null)
      return { kind: 'skipped', reason: `no such date: ${hive.text} (from ${hive.folders})` };
    return { kind: 'data', partition: hive.day, gzip };
  }

  if (options.datedNames) {
    const dated = DATED_NAME.exec(name);
    if (dated) {
      const partition = formatDay(dated[1], dated[2], dated[3]);
      if (partition === null) {
        return {
          kind: 'skipped',
          reason: `no such date: ${dated[1]}-${dated[2]}-${dated[3]} (from the file name)`,
        };
      }
      return { kind: 'data', partition, gzip };
    }
  }
  const expected = options.datedNames
    ? 'year=YYYY/month=MM/day=DD/ folders above it, or a name ending in -YYYY-MM-DD.csv'
    : 'year=YYYY/month=MM/day=DD/ folders above it';
  return { kind: 'skipped', reason: `no day in the key: expected ${expected}` };
}

/** The day of a billing file, or null for anything else (skipped keys included). */
export function classifyKey(key: string, options: { datedNames: boolean }): KeyClass | null {
  const verdict = inspectKey(key, options);
  return verdict?.kind === 'data' ? { partition: verdict.partition, gzip: verdict.gzip } : null;
}

/**
 * The deepest `year=/month=/day=` run in `dirs`: undefined when there is none; `day` is null when
 * the run names an impossible date.
 */
function findHiveDay(dirs: string[]): { day: string | null; text: string; folders: string } | undefined {
  for (let i = dirs.length - 3; i >= 0; i--) {
    const year = YEAR.exec(dirs[i] ?? '');
    if (!year) continue;
    const month = MONTH.exec(dirs[i + 1] ?? '');
    const day = DAY.exec(dirs[i + 2] ?? '');
    if (!month || !day) continue;
    const pad = (v: string | undefined) => (v ?? '').padStart(2, '0');
    return {
      day: formatDay(year[1], month[1], day[1]),
      text: `${year[1]}-${pad(month[1])}-${pad(day[1])}`,
      folders: `${dirs.slice(i, i + 3).join('/')}/`,
    };
  }
  return undefined;
}

function formatDay(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
): string | null {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return null;
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  // Date.UTC rolls day=31 of April into May; a round trip catches that and Feb 29 in non-leap years.
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
