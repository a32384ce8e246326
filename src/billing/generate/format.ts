// Lookup tables instead of padStart/toISOString: formatting is the hot path at millions of rows a second.
const P2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const P3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const ZEROS: readonly string[] = Array.from({ length: 7 }, (_, i) => '0'.repeat(i));

export function pad2(n: number): string {
  return P2[n] as string;
}

/** `HH:MM:SS` for a millisecond of the day. */
export function clockSeconds(t: number): string {
  const s = Math.floor(t / 1000);
  return `${P2[Math.floor(s / 3600)]}:${P2[Math.floor(s / 60) % 60]}:${P2[s % 60]}`;
}

/** `mmm` for a millisecond of the day. */
export function millis(t: number): string {
  return P3[t % 1000] as string;
}

/**
 * A decimal string for an integer count of micro-units (1e-6), e.g. 1250000 -> "1.25", -7 -> "-0.000007".
 * Working on integers guarantees at most 6 fraction digits and no binary-float artefacts like 0.30000000000000004.
 */
export function formatMicros(micros: number): string {
  const negative = micros < 0;
  const m = negative ? -micros : micros;
  const whole = Math.floor(m / 1_000_000);
  let frac = m - whole * 1_000_000;
  const sign = negative ? '-' : '';
  if (frac === 0) return `${sign}${whole}`;
  let digits = 6;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const f = String(frac);
  return `${sign}${whole}.${ZEROS[digits - f.length]}${f}`;
}

/** All six fraction digits, trailing zeros kept; the base for the "7 fraction digits" dirty value. */
export function formatMicrosFull(micros: number): string {
  const negative = micros < 0;
  const m = negative ? -micros : micros;
  const whole = Math.floor(m / 1_000_000);
  const frac = String(m - whole * 1_000_000);
  return `${negative ? '-' : ''}${whole}.${ZEROS[6 - frac.length]}${frac}`;
}
