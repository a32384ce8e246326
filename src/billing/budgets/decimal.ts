/**
 * Exact money in TypeScript as integer micro-units (6 fraction digits, the scale of every
 * DECIMAL(38,6) the warehouse returns): sums of spend must never pass through floating point.
 */

const SCALE = 1_000_000n;
const DECIMAL_PATTERN = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Parses a decimal string to micro-units, rounding half away from zero past 6 fraction digits. */
export function toMicros(value: string): bigint {
  const match = DECIMAL_PATTERN.exec(value.trim());
  if (!match) throw new RangeError(`"${value}" is not a decimal number`);
  const [, sign = '', whole = '0', fraction = ''] = match;
  let micros = BigInt(whole) * SCALE + BigInt((fraction.slice(0, 6) || '0').padEnd(6, '0'));
  if ((fraction[6] ?? '0') >= '5') micros += 1n;
  return sign === '-' ? -micros : micros;
}

/** Micro-units as a decimal string with exactly 6 fraction digits ("1234.500000"). */
export function fromMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const text = `${abs / SCALE}.${(abs % SCALE).toString().padStart(6, '0')}`;
  return negative ? `-${text}` : text;
}

/** A floating-point estimate (a forecast, never a booked amount) rounded to micro-units. */
export function floatToMicros(value: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  return BigInt(Math.round(value * 1_000_000));
}

/** A decimal string as a float, for estimation only (forecast training), never for sums of money. */
export function estimateOf(value: string): number {
  return Number(toMicros(value)) / 1_000_000;
}
