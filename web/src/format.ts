/**
 * Display formatting. Money arrives as exact decimal strings and is rounded for reading on the
 * string itself (half away from zero), never through a float; charts get numbers only for drawing.
 */

const groupThousands = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function money(value: unknown, fractionDigits = 2): string {
  if (value === null || value === undefined || value === '') return '—';
  const text = String(value).trim();
  const negative = text.startsWith('-');
  const [int = '0', frac = ''] = text.replace(/^[-+]/, '').split('.');
  const scale = 10n ** BigInt(fractionDigits);
  let scaled =
    BigInt(int || '0') * scale + BigInt((frac + '0'.repeat(fractionDigits)).slice(0, fractionDigits) || '0');
  if (Number(frac.charAt(fractionDigits) || '0') >= 5) scaled += 1n;
  const whole = groupThousands((scaled / scale).toString());
  const part = fractionDigits > 0 ? `.${(scaled % scale).toString().padStart(fractionDigits, '0')}` : '';
  return `${negative && scaled > 0n ? '-' : ''}${whole}${part}`;
}

/** What an unknown amount reads as: an event behind it has no FX rate. Never a zero. */
export const UNKNOWN_AMOUNT = 'unknown';

/** A `Money` for reading, with its currency code: "1,234.56 USD", or "unknown" when it is. */
export function moneyText(value: { amount: string | null; currency: string }, fractionDigits = 2): string {
  return value.amount === null ? UNKNOWN_AMOUNT : `${money(value.amount, fractionDigits)} ${value.currency}`;
}

/** The exact figure of a `Money`: "1234.560000 USD", or "unknown". */
export function exactMoney(value: { amount: string | null; currency: string }): string {
  return value.amount === null ? UNKNOWN_AMOUNT : `${value.amount} ${value.currency}`;
}

/** Short money for chart axes: 12.3k, 4.5M. */
export function compactMoney(value: number): string {
  return new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

export function count(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) ? new Intl.NumberFormat('en').format(n) : String(value);
}

export function percent(ratio: unknown, digits = 1): string {
  if (ratio === null || ratio === undefined || ratio === '') return '—';
  return `${(Number(ratio) * 100).toFixed(digits)}%`;
}

export function duration(ms: unknown): string {
  if (ms === null || ms === undefined) return '—';
  const n = Number(ms);
  if (n < 1000) return `${n} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  const minutes = Math.floor(n / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((n % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function dateTime(iso: unknown): string {
  if (!iso) return '—';
  const date = new Date(String(iso));
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function relative(iso: unknown, now = Date.now()): string {
  if (!iso) return 'never';
  const then = Date.parse(String(iso));
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.round((now - then) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text =
    s < 60
      ? `${s} s`
      : s < 3600
        ? `${Math.round(s / 60)} min`
        : s < 86_400
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86_400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function bytes(value: unknown): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** A value of any type as short readable text (objects as `key: value` pairs, never raw JSON braces). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(cellText).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${cellText(v)}`)
      .join(' · ');
  }
  return String(value);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export function dayIndex(first: string, day: string): number {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000);
}
