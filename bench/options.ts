import { resolve } from 'node:path';

/** The benchmark's sections, in the order they run. A plain union (no enums) so `--only` can be checked. */
export const SECTIONS = [
  'full',
  'incremental',
  'rerun',
  'memory',
  'generator',
  'automation',
  'scale-out',
  'forecast',
] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  scale: number;
  reps: number;
  only: readonly SectionName[];
  tiny: boolean;
  /** BILLING_DUCKDB_MEMORY_LIMIT handed to every pipeline child and to the raw reference. */
  memoryLimit: string;
  /** Keep the generated data and warehouses under the work folder (for poking at them afterwards). */
  keep: boolean;
  workDir: string;
  resultsDir: string;
  /** `--full-days N`: days (files) of the full load; rows per day follow --scale. */
  fullDays: number | null;
  /** `--points 10,31`: history sizes at which one more day is timed. */
  points: readonly number[] | null;
}

/** Data sizes derived from the options: the one place that decides how long a run takes. */
export interface BenchSizes {
  full: { days: number; rowsPerDay: number };
  history: { points: readonly number[]; rowsPerDay: number; filesPerDay: number };
  /** The no-op re-run extends the history to `days` days with tiny files (0: the history as it is). */
  rerun: { days: number; rowsPerDay: number };
  memory: { rows: number };
  generator: { days: number; rowsPerDay: number };
  /** Rows of the file whose freshness is timed, how many times, run starts timed, backfill length. */
  automation: { rows: number; freshnessReps: number; runStarts: number; backfillDays: number };
  /** One full `materialize` of this data per variant (embedded DuckDB, 1, 2 and 4 workers). */
  scaleOut: { days: number; rowsPerDay: number; filesPerDay: number; workers: readonly number[] };
}

const USAGE = `usage: npm run bench -- [--scale N] [--reps N] [--only ${SECTIONS.join(',')}] [--tiny]
                         [--full-days N] [--points 10,30,90]
                         [--memory-limit 384MB] [--keep] [--work DIR] [--results DIR]

  --scale N         multiply the data sizes (default 1: ~15 min on 2 busy cores; 15: the issue's 3M-row full load,
                    50: a 2.3 GB single file for the memory figure; expect ~40+ min)
  --reps N          repetitions of every timed figure (default 3; 1 with --tiny)
  --only a,b        run a subset of the sections: ${SECTIONS.join(', ')}
  --tiny            smoke mode for CI (tiny data, finishes in well under a minute)
  --full-days N     days (one file each) of the full load (default 10; rows/day = 20,000 x scale)
  --points a,b      history sizes where one more day is timed (default 10,30,90; first and last
                    give the growth ratio; rows/day = 10,000 x scale)
  --memory-limit X  DuckDB memory limit for the pipeline and the raw reference (default 384MB, the pipeline's own default)
  --keep            keep the generated data and warehouses in the work folder
  --work DIR        scratch folder (default bench/.work, git-ignored)
  --results DIR     where the JSON results go (default bench/results)`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function positive(flag: string, value: string | undefined, allowFraction: boolean): number {
  const n = Number(value);
  if (
    value === undefined ||
    value.trim() === '' ||
    !Number.isFinite(n) ||
    n <= 0 ||
    (!allowFraction && !Number.isInteger(n))
  ) {
    throw new UsageError(
      `${flag} needs a positive ${allowFraction ? 'number' : 'whole number'}; got "${value ?? ''}"`,
    );
  }
  return n;
}

/** `benchRoot` is the source folder `bench/` (not `dist/bench/`) so results land next to the code. */
export function parseOptions(argv: readonly string[], benchRoot: string): BenchOptions {
  let scale = 1;
  let reps: number | undefined;
  let only: SectionName[] = [...SECTIONS];
  let tiny = false;
  let memoryLimit = '384MB';
  let keep = false;
  let workDir = resolve(benchRoot, '.work');
  let resultsDir = resolve(benchRoot, 'results');
  let fullDays: number | null = null;
  let points: number[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--scale':
        scale = positive('--scale', value(), true);
        break;
      case '--reps':
        reps = positive('--reps', value(), false);
        break;
      case '--only': {
        const names = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0) {
          throw new UsageError(
            `--only takes a comma list of ${SECTIONS.join(', ')}; unknown: ${unknown.join(', ') || '(empty)'}`,
          );
        }
        only = SECTIONS.filter((s) => names.includes(s));
        break;
      }
      case '--tiny':
        tiny = true;
        break;
      case '--full-days':
        fullDays = positive('--full-days', value(), false);
        break;
      case '--points': {
        const text = value() ?? '';
        points = text.split(',').map((p) => positive('--points', p, false));
        if (points.some((p, i) => i > 0 && p <= (points?.[i - 1] ?? 0)))
          throw new UsageError(`--points must increase; got "${text}"`);
        break;
      }
      case '--memory-limit':
        memoryLimit = value() ?? '';
        if (!/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(memoryLimit))
          throw new UsageError(`--memory-limit looks like 1GB or 512MB; got "${memoryLimit}"`);
        break;
      case '--keep':
        keep = true;
        break;
      case '--work':
        workDir = resolve(value() ?? '');
        break;
      case '--results':
        resultsDir = resolve(value() ?? '');
        break;
      case '--help':
      case '-h':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  return {
    scale,
    reps: reps ?? (tiny ? 1 : 3),
    only,
    tiny,
    memoryLimit,
    keep,
    workDir,
    resultsDir,
    fullDays,
    points,
  };
}

/**
 * Default sizes keep each section to a few minutes on 2 cores; `--scale` multiplies rows (not days or
 * files, which set the per-file and per-day overheads being measured). The generator figure is a rate,
 * so it stops growing at scale 5: past that it only costs time and disk.
 */
export function sizesFor(options: BenchOptions): BenchSizes {
  const s = options.scale;
  const rows = (n: number) => Math.max(1, Math.round(n * s));
  if (options.tiny) {
    return {
      full: { days: options.fullDays ?? 2, rowsPerDay: rows(5_000) },
      // Two points still show the slope; each point costs CLI runs, which is what tiny must save.
      history: { points: options.points ?? [10, 30], rowsPerDay: rows(200), filesPerDay: 4 },
      // No extension to 365 days: building 1,000+ more files is what tiny must save.
      rerun: { days: 0, rowsPerDay: 40 },
      memory: { rows: rows(50_000) },
      generator: { days: 1, rowsPerDay: rows(100_000) },
      // The goals name these sizes (a 10,000-row file, 365 partitions): only repetitions shrink.
      automation: {
        rows: 10_000,
        freshnessReps: options.reps,
        runStarts: Math.max(3, options.reps),
        backfillDays: 365,
      },
      // Enough files (8) that 4 workers each get some; few rows, so the section stays well under 60 s.
      scaleOut: { days: 2, rowsPerDay: rows(4_000), filesPerDay: 4, workers: [1, 2, 4] },
    };
  }
  return {
    // 10 files like the "3M rows over 10 days"; --scale 15 is that size.
    full: { days: options.fullDays ?? 10, rowsPerDay: rows(20_000) },
    // The "on top of 10 days" and "31 against 10" (here 90 against 10); --scale 30 is 300k rows/day.
    history: { points: options.points ?? [10, 30, 90], rowsPerDay: rows(10_000), filesPerDay: 4 },
    // The no-op goal names 365 days x 4 files: days past the history get tiny files (cheap to
    // build; the no-op cost is per file, not per row).
    rerun: { days: 365, rowsPerDay: 40 },
    memory: { rows: rows(400_000) },
    generator: { days: 2, rowsPerDay: Math.round(500_000 * Math.min(s, 5)) },
    automation: {
      rows: 10_000,
      freshnessReps: Math.max(5, options.reps),
      runStarts: Math.max(10, options.reps),
      backfillDays: 365,
    },
    // 16 files: per-file parsing is the unit of work the workers share.
    scaleOut: { days: 4, rowsPerDay: rows(25_000), filesPerDay: 4, workers: [1, 2, 4] },
  };
}
