/**
 * Retry delays for alert delivery: capped exponential backoff with jitter, so a receiver that comes
 * back after an outage is not hit by every pending event at the same instant. Pure: `random` is
 * injectable so tests can pin the jitter.
 */

export type JitterMode = 'full' | 'equal' | 'decorrelated';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * `full` (default): uniform in [0, ceiling]; `equal`: uniform in [ceiling / 2, ceiling];
   * `decorrelated`: uniform in [initial, 3 × previous delay], capped.
   */
  jitter?: JitterMode;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/** The ceiling of the delay after the `attempt`-th failure (1-based): initial × 2^(attempt-1), capped. */
export function backoffCeiling(
  attempt: number,
  options: Pick<BackoffOptions, 'initialDelayMs' | 'maxDelayMs'>,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
}

/**
 * The delay before the next attempt after the `attempt`-th failure. `previousDelayMs` feeds the
 * decorrelated form (AWS's "decorrelated jitter"); the full form needs only the attempt number.
 * Never below 1 ms: a zero delay would retry inside the same delivery pass.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, previousDelayMs?: number): number {
  const random = options.random ?? Math.random;
  const jitter: JitterMode = options.jitter ?? 'full';
  const r = Math.min(Math.max(random(), 0), 1);
  switch (jitter) {
    case 'full':
      return Math.max(1, Math.round(r * backoffCeiling(attempt, options)));
    case 'equal': {
      const ceiling = backoffCeiling(attempt, options);
      return Math.max(1, Math.round(ceiling / 2 + (r * ceiling) / 2));
    }
    case 'decorrelated': {
      const base = options.initialDelayMs;
      const previous = previousDelayMs ?? base;
      const upper = Math.max(base, previous * 3);
      return Math.max(1, Math.round(Math.min(options.maxDelayMs, base + r * (upper - base))));
    }
    default: {
      const unknown: never = jitter;
      throw new Error(`unknown jitter mode ${String(unknown)}`);
    }
  }
}
