import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { addDays } from '../../orchestrator/days.js';
import { createSource } from '../../sources/create-source.js';
import { SourceError } from '../../sources/source.js';
import { Rng } from '../generate/random.js';

/** Rough value of one unit in USD, as 10-fraction-digit integers; the walk starts here. */
const USD_VALUE: Record<string, bigint> = {
  USD: 10_000_000_000n,
  EUR: 10_850_000_000n,
  GBP: 12_700_000_000n,
  JPY: 66_500_000n,
};
/** The currencies the sample-data generator writes. */
export const SAMPLE_CURRENCIES = Object.keys(USD_VALUE);
const SCALE = 10_000_000_000n;

export interface FxGenerateOptions {
  from: string;
  to: string;
  seed: number;
  reportingCurrency?: string;
  /** Default: every currency the sample generator uses. */
  currencies?: readonly string[];
}

const fixed = (units: bigint): string => {
  const text = units.toString().padStart(11, '0');
  return `${text.slice(0, -10)}.${text.slice(-10)}`;
};

/**
 * A reproducible FX file matching the sample data: one rate per currency per day, a small random
 * walk (±0.3% a day) around realistic levels, expressed in the reporting currency with 10 fraction
 * digits. Cross rates are computed in integers, so the same options give the same bytes.
 */
export function generateFxRates(options: FxGenerateOptions): string {
  const reporting = (options.reportingCurrency ?? 'USD').toUpperCase();
  const currencies = [...new Set([...(options.currencies ?? SAMPLE_CURRENCIES), reporting])].sort();
  for (const c of currencies) {
    if (!(c in USD_VALUE)) {
      throw new RangeError(`no sample FX level for ${c}; known: ${SAMPLE_CURRENCIES.join(', ')}`);
    }
  }
  if (options.from > options.to) throw new RangeError(`--from ${options.from} is after --to ${options.to}`);
  const rng = new Rng(options.seed ^ 0x5f3759df);
  const random = () => rng.float();
  const level = new Map(currencies.map((c) => [c, USD_VALUE[c] as bigint]));
  const lines = ['date,currency,rate'];
  for (let day = options.from; day <= options.to; day = addDays(day, 1)) {
    for (const c of currencies) {
      if (c === 'USD') continue;
      // Basis points of a basis point: ±0.3% as an integer step, so the walk stays exact.
      const step = BigInt(Math.round((random() - 0.5) * 60));
      const current = level.get(c) as bigint;
      level.set(c, current + (current * step) / 10_000n);
    }
    const base = level.get(reporting) as bigint;
    for (const c of currencies) {
      if (c === reporting) continue;
      const value = level.get(c) as bigint;
      // Round half up to 10 digits: value / base in units of 1e-10.
      const rate = (value * SCALE * 2n + base) / (base * 2n);
      lines.push(`${day},${c},${fixed(rate)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes an FX file to `s3://bucket/key.csv` or a local path. */
export async function writeFxFile(
  destination: string,
  body: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (/^s3:\/\//i.test(destination)) {
    const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(destination.trim());
    if (!match || (match[2] ?? '').endsWith('/')) {
      throw new SourceError(
        `FX destination "${destination}" must name a file, e.g. s3://bucket/fx/rates.csv`,
        {
          transient: false,
        },
      );
    }
    const key = match[2] as string;
    const slash = key.lastIndexOf('/');
    const sink = createSource(`s3://${match[1]}/${slash >= 0 ? key.slice(0, slash + 1) : ''}`, env);
    try {
      await sink.put(key.slice(slash + 1), body);
    } finally {
      await sink.close();
    }
    return destination;
  }
  const path = resolve(destination.replace(/^file:\/\//i, ''));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
  return path;
}
