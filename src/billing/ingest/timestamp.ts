/** Why a value was rejected; the caller prefixes the column name and the value. */
export interface Problem {
  problem: string;
}

const NOT_ISO: Problem = { problem: 'is not an ISO-8601 date-time' };
const BAD_DATE: Problem = { problem: 'is not a valid calendar date' };
const BAD_TIME: Problem = { problem: 'is not a valid time of day' };
const BAD_OFFSET: Problem = { problem: 'has a UTC offset beyond ±18:00' };
const BAD_YEAR: Problem = { problem: 'is outside years 0001-9999 in UTC' };

const ZEROS = '000000';
const MINUTES_PER_DAY = 1440;
const MAX_OFFSET_MINUTES = 18 * 60;

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  // NaN (past the end) and non-digits both fail the range check.
  return d >= 0 && d <= 9 ? d : -1;
}

/** Two digits at `i` as a number, or -1. */
function two(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`;
}

/**
 * Parses an ISO-8601 date-time and returns the UTC instant as `YYYY-MM-DD HH:MM:SS.ffffff`, or a Problem.
 *
 * Accepted: `YYYY-MM-DD`, a `T`, `t` or space, `HH:MM` or `HH:MM:SS`, an optional `.` with 1-9 fraction
 * digits, and an optional zone `Z`/`z`, `±HH:MM`, `±HHMM` or `±HH`; no zone means UTC. Surrounding
 * whitespace is ignored. Leap seconds (`:60`) and `24:00` are rejected.
 */
export function parseTimestamp(value: string): string | Problem {
  const s = value.trim();
  const len = s.length;
  // Shortest accepted form is `YYYY-MM-DDTHH:MM`.
  if (len < 16) return NOT_ISO;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const sep = s.charCodeAt(10);
  const hour = two(s, 11);
  const minute = two(s, 14);
  if (
    y1 < 0 ||
    y2 < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    s.charCodeAt(4) !== 45 /* - */ ||
    s.charCodeAt(7) !== 45 ||
    (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32) ||
    s.charCodeAt(13) !== 58 /* : */
  ) {
    return NOT_ISO;
  }
  const year = y1 * 100 + y2;
  let p = 16;
  let second = 0;
  let hasSeconds = false;
  if (p < len && s.charCodeAt(p) === 58) {
    second = two(s, p + 1);
    if (second < 0) return NOT_ISO;
    hasSeconds = true;
    p += 3;
  }
  let fraction = ZEROS;
  // A fraction needs seconds: `HH:MM.5` would be a fraction of a minute in ISO-8601, which is not supported.
  if (hasSeconds && p < len && s.charCodeAt(p) === 46 /* . */) {
    const start = ++p;
    while (p < len && digit(s, p) >= 0) p++;
    const n = p - start;
    if (n === 0 || n > 9) return NOT_ISO;
    // TIMESTAMP holds microseconds: digits beyond the sixth are truncated, not rounded, so the result never
    // carries into the next second (or day, month, year).
    fraction =
      n === 6 ? s.slice(start, p) : n > 6 ? s.slice(start, start + 6) : s.slice(start, p) + ZEROS.slice(n);
  }
  let offset = 0;
  if (p < len) {
    const c = s.charCodeAt(p);
    if (c === 90 /* Z */ || c === 122 /* z */) {
      if (p + 1 !== len) return NOT_ISO;
    } else if (c === 43 /* + */ || c === 45 /* - */) {
      const oh = two(s, p + 1);
      if (oh < 0) return NOT_ISO;
      let om = 0;
      const rest = len - (p + 3);
      if (rest === 3 && s.charCodeAt(p + 3) === 58) om = two(s, p + 4);
      else if (rest === 2) om = two(s, p + 3);
      else if (rest !== 0) return NOT_ISO;
      if (om < 0) return NOT_ISO;
      if (om > 59) return BAD_OFFSET;
      offset = oh * 60 + om;
      if (offset > MAX_OFFSET_MINUTES) return BAD_OFFSET;
      if (c === 45) offset = -offset;
    } else {
      return NOT_ISO;
    }
  }
  if (year < 1) return BAD_YEAR;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return BAD_DATE;
  if (hour > 23 || minute > 59 || second > 59) return BAD_TIME;

  if (offset === 0) {
    // Common case: the digits are already in place, only the separator and seconds may differ.
    const time = hasSeconds ? s.slice(11, 19) : `${s.slice(11, 16)}:00`;
    return `${s.slice(0, 10)} ${time}.${fraction}`;
  }
  // Local time = UTC + offset, and |offset| < 1 day, so the UTC date is at most one day away.
  let y = year;
  let mo = month;
  let d = day;
  let minutes = hour * 60 + minute - offset;
  if (minutes < 0) {
    minutes += MINUTES_PER_DAY;
    if (--d < 1) {
      if (--mo < 1) {
        mo = 12;
        y--;
      }
      d = daysInMonth(y, mo);
    }
  } else if (minutes >= MINUTES_PER_DAY) {
    minutes -= MINUTES_PER_DAY;
    if (++d > daysInMonth(y, mo)) {
      d = 1;
      if (++mo > 12) {
        mo = 1;
        y++;
      }
    }
  }
  if (y < 1 || y > 9999) return BAD_YEAR;
  const h = (minutes / 60) | 0;
  const m = minutes - h * 60;
  return `${pad4(y)}-${pad2(mo)}-${pad2(d)} ${pad2(h)}:${pad2(m)}:${pad2(second)}.${fraction}`;
}
