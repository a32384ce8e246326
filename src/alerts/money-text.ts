/**
 * Amounts in alert summaries: exact decimal strings rounded half away from zero to 2 decimals and
 * grouped by thousands ("40120.504" → "40,120.50"). Never through a float.
 */
export function formatAmount(value: string, decimals = 2): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m) return value;
  const [, sign = '', whole = '0', fraction = ''] = m;
  const padded = (fraction + '0'.repeat(decimals + 1)).slice(0, decimals + 1);
  let scaled = BigInt(whole + padded.slice(0, decimals));
  if (Number(padded[decimals]) >= 5) scaled += 1n;
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const int = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals);
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const negative = sign === '-' && /[1-9]/.test(digits);
  return `${negative ? '-' : ''}${grouped}${decimals > 0 ? `.${frac}` : ''}`;
}

/** `amount currency`, or "unknown currency" when the amount is unknown. */
export function money(value: string | null, currency: string): string {
  return value === null ? `unknown ${currency}` : `${formatAmount(value)} ${currency}`;
}

/** `value` (a decimal string with up to `scale` fraction digits) as an integer of 10^-scale units. */
export function scaledDecimal(value: string, scale: number): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m) return null;
  const [, sign = '', whole = '0', fraction = ''] = m;
  const units = BigInt(whole + (fraction + '0'.repeat(scale)).slice(0, scale));
  return sign === '-' ? -units : units;
}
