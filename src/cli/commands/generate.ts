import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { generateFxRates, writeFxFile } from '../../billing/fx/fx-generator.js';
import { generate } from '../../billing/generate/generator.js';
import { addDays, parseDayRange } from '../../orchestrator/days.js';
import { createSource } from '../../sources/create-source.js';
import { UsageError } from '../context.js';

interface GenerateFlags {
  to: string[];
  out?: string;
  from?: string;
  rowsPerDay: string;
  seed: string;
  dirtyRate: string;
  filesPerDay: string;
  gzip?: boolean;
  fxRates?: string;
  reportingCurrency: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function number(flag: string, value: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(`${flag} must be ${expected}; got "${value}"`);
  return n;
}

/**
 * `--to` names both the destination and the last day (as in `generate --to s3://b/ --from D --to D`):
 * a value shaped like a date is the day, anything else the destination.
 */
export function splitTo(values: readonly string[], out?: string): { destination: string; lastDay: string } {
  const days = values.filter((v) => DAY.test(v));
  const places = values.filter((v) => !DAY.test(v));
  if (out) places.push(out);
  if (places.length !== 1)
    throw new UsageError('give one destination: --to s3://bucket/prefix/ or --to ./folder (or --out)');
  if (days.length !== 1) throw new UsageError('give the last day: --to YYYY-MM-DD');
  return { destination: places[0] as string, lastDay: days[0] as string };
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write realistic, reproducible Hive-partitioned sample billing data to S3 or a folder')
    .option(
      '--to <value>',
      'destination (s3://bucket/prefix/ or folder) and last day (YYYY-MM-DD); give both',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--out <destination>', 'destination, if you prefer it apart from --to')
    .option('--from <day>', 'first day (YYYY-MM-DD)')
    .option('--rows-per-day <n>', 'rows per day', '10000')
    .option('--seed <n>', 'random seed: same seed, same bytes', '1')
    .option('--dirty-rate <r>', 'share of malformed rows, 0..1', '0')
    .option('--files-per-day <n>', 'files per day', '1')
    .option('--gzip', 'write .csv.gz')
    .option(
      '--fx-rates <destination>',
      'also write a matching FX rate file (s3://bucket/key.csv or a path) for BILLING_FX_SOURCE',
    )
    .option('--reporting-currency <code>', 'currency the FX rates convert to', 'USD')
    .addHelpText(
      'after',
      `
Examples:
  $ billing-pipeline generate --to s3://billing/exports/ --from 2025-04-01 --to 2025-04-30 --rows-per-day 50000 --seed 7
  $ billing-pipeline generate --to ./sample --from 2025-04-01 --to 2025-04-07 --rows-per-day 1000 --dirty-rate 0.01 --gzip
  $ billing-pipeline generate --to s3://billing/exports/ --from 2025-04-01 --to 2025-04-30 --fx-rates s3://billing/fx/rates.csv`,
    )
    .action(async (flags: GenerateFlags) => {
      if (!flags.from) throw new UsageError('--from YYYY-MM-DD is required');
      const { destination, lastDay } = splitTo(flags.to, flags.out);
      const range = parseDayRange(flags.from, lastDay);
      const rowsPerDay = number(
        '--rows-per-day',
        flags.rowsPerDay,
        (n) => Number.isInteger(n) && n >= 0,
        'a whole number',
      );
      const seed = number('--seed', flags.seed, Number.isInteger, 'an integer');
      const dirtyRate = number('--dirty-rate', flags.dirtyRate, (n) => n >= 0 && n <= 1, 'between 0 and 1');
      const filesPerDay = number(
        '--files-per-day',
        flags.filesPerDay,
        (n) => Number.isInteger(n) && n >= 1,
        'a positive whole number',
      );
      const reportingCurrency = flags.reportingCurrency.trim().toUpperCase();
      if (!/^[A-Z]{3}$/.test(reportingCurrency))
        throw new UsageError(
          `--reporting-currency must be a three-letter code; got "${flags.reportingCurrency}"`,
        );
      // Rates start a week early: events just after local midnight fall on the UTC day before.
      const fxBody = flags.fxRates
        ? generateFxRates({ from: addDays(range.from, -7), to: range.to, seed, reportingCurrency })
        : null;
      const sink = createSource(destination);
      const tmp = await mkdtemp(join(tmpdir(), 'billing-generate-'));
      const started = Date.now();
      try {
        const result = await generate(
          {
            from: range.from,
            to: range.to,
            rowsPerDay,
            seed,
            dirtyRate,
            gzip: flags.gzip,
            filesPerDay,
            tmpDir: tmp,
          },
          (key, path) => sink.putFile(key, path),
        );
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `wrote ${result.files.length} file(s), ${result.rows} row(s) (${result.dirtyRows} malformed) to ${sink.uri} in ${seconds.toFixed(1)} s (${Math.round(result.rows / Math.max(seconds, 0.001))} rows/s)\n`,
        );
        if (flags.fxRates && fxBody) {
          const where = await writeFxFile(flags.fxRates, fxBody, process.env);
          process.stdout.write(
            `wrote FX rates to ${reportingCurrency} to ${where}; set BILLING_FX_SOURCE=${where}\n`,
          );
        }
      } finally {
        await sink.close();
        await rm(tmp, { recursive: true, force: true });
      }
    });
}
