import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { parseDay } from '../../orchestrator/days.js';
import { createSource, parseS3Uri } from '../../sources/create-source.js';
import { SourceError } from '../../sources/source.js';

/** Where rates are configured, named in every message that asks for them. */
export const FX_SETTING = 'BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml)';

/** One FX rate: units of the reporting currency for one unit of `currency`, from `date` on. */
export interface FxRate {
  date: string;
  currency: string;
  /** Exact decimal text, up to 10 fraction digits. */
  rate: string;
}

export class FxFileError extends Error {
  override name = 'FxFileError';
}

const REQUIRED = ['date', 'currency', 'rate'] as const;
const RATE = /^\d{1,10}(\.\d{1,10})?$/;
const CURRENCY = /^[A-Z]{3}$/;
const MAX_REPORTED = 10;

/** Where a `BILLING_FX_SOURCE` lives: a folder-like source plus the file's key in it. */
function locate(uri: string): { root: string; key: string } {
  if (/^s3:\/\//i.test(uri)) {
    const { bucket, prefix } = parseS3Uri(uri);
    const key = uri.trim().replace(/^s3:\/\/[^/]*\/?/i, '');
    if (key === '' || key.endsWith('/')) {
      throw new SourceError(`BILLING_FX_SOURCE "${uri}" must name a file, e.g. s3://${bucket}/fx/rates.csv`, {
        transient: false,
      });
    }
    const dir = prefix.slice(0, -1).split('/').slice(0, -1).join('/');
    return { root: `s3://${bucket}/${dir ? `${dir}/` : ''}`, key: posix.basename(key) };
  }
  const path = uri.replace(/^file:\/\//i, '');
  return { root: posix.dirname(path.replaceAll('\\', '/')) || '.', key: posix.basename(path) };
}

/** The FX file's text and a content hash that identifies its version. */
export async function readFxSource(
  uri: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<{ text: string; version: string }> {
  const { root, key } = locate(uri);
  const source = createSource(root, env);
  try {
    const stream = await source.open(key, { signal });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const bytes = Buffer.concat(chunks);
    const version = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    return { text: bytes.toString('utf8'), version };
  } finally {
    await source.close();
  }
}

/** A decimal without insignificant zeros, so `1.50` and `01.5` compare equal (no float rounding). */
function canonical(rate: string): string {
  const [int = '', frac = ''] = rate.split('.');
  const whole = int.replace(/^0+(?=\d)/, '');
  const fraction = frac.replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

/** Splits one line into fields; a field may be wrapped in double quotes (no embedded commas expected). */
function fields(line: string): string[] {
  return line.split(',').map((f) =>
    f
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim(),
  );
}

/**
 * Parses and validates an FX file (`date,currency,rate`, header names in any order and case, extra
 * columns ignored). Any bad row rejects the whole file: a partly loaded rate table would normalize
 * some days with stale rates without anyone noticing.
 */
export function parseFxRates(text: string, options: { reportingCurrency: string; origin: string }): FxRate[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const problems: string[] = [];
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0)
    throw new FxFileError(`${options.origin} is empty; expected a header date,currency,rate`);
  const header = fields(lines[headerIndex] ?? '').map((h) => h.toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new FxFileError(
      `${options.origin}: header is missing ${missing.join(', ')}; expected columns date,currency,rate`,
    );
  }
  const at = Object.fromEntries(REQUIRED.map((c) => [c, header.indexOf(c)])) as Record<
    (typeof REQUIRED)[number],
    number
  >;
  const seen = new Map<string, { rate: string; line: number }>();
  const rates: FxRate[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = i + 1;
    const f = fields(raw);
    if (f.length !== header.length) {
      problems.push(`line ${line}: ${f.length} field(s), the header has ${header.length}`);
      continue;
    }
    const date = f[at.date] ?? '';
    const currency = (f[at.currency] ?? '').toUpperCase();
    const rate = f[at.rate] ?? '';
    try {
      parseDay(date, 'date');
    } catch {
      problems.push(`line ${line}: date "${date}" is not a valid YYYY-MM-DD date`);
      continue;
    }
    if (!CURRENCY.test(currency)) {
      problems.push(`line ${line}: currency "${f[at.currency]}" is not a three-letter code`);
      continue;
    }
    if (!RATE.test(rate) || !/[1-9]/.test(rate)) {
      problems.push(
        `line ${line}: rate "${rate}" must be a positive decimal with at most 10 integer and 10 fraction digits`,
      );
      continue;
    }
    if (currency === options.reportingCurrency) {
      if (canonical(rate) !== '1') {
        problems.push(
          `line ${line}: ${currency} is the reporting currency, its rate is always 1 (found ${rate})`,
        );
      }
      continue;
    }
    const key = `${date} ${currency}`;
    const previous = seen.get(key);
    if (previous) {
      if (canonical(previous.rate) !== canonical(rate)) {
        problems.push(
          `line ${line}: a second, different rate for ${currency} on ${date} (line ${previous.line})`,
        );
      }
      continue;
    }
    seen.set(key, { rate, line });
    rates.push({ date, currency, rate });
  }
  if (problems.length > 0) {
    const more = problems.length > MAX_REPORTED ? ` (and ${problems.length - MAX_REPORTED} more)` : '';
    throw new FxFileError(
      `${options.origin} was not loaded (previous rates are kept): ${problems.slice(0, MAX_REPORTED).join('; ')}${more}`,
    );
  }
  return rates;
}
