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
}

/** Data sizes derived from the options: the one place that decides how long a run takes. */
export interface BenchSizes {
  full: { days: number; rowsPerDay: number };
  history: { points: readonly number[]; rowsPerDay: number; filesPerDay: number };
  memory: { rows: number };
  generator: { days: number; rowsPerDay: number };
  /** Rows of the file whose freshness is timed, how many times, run starts timed, backfill length. */
  automation: { rows: number; freshnessReps: number; runStarts: number; backfillDays: number };
  /** One full `materialize` of this data per variant (embedded DuckDB, 1, 2 and 4 workers). */
  scaleOut: { days: number; rowsPerDay: number; filesPerDay: number; workers: readonly number[] };
}

const USAGE = `usage: npm run bench -- [--scale N] [--reps N] [--only ${SECTIONS.join(',')}] [--tiny]
                         [--memory-limit 1GB] [--keep] [--work DIR] [--results DIR]

  --scale N         multiply the data sizes (default 1: ~2 min on 2 cores; 50: 10M-row full load,
                    a 2.3 GB single file for the memory figure; expect ~40+ min)
  --reps N          repetitions of every timed figure (default 3; 1 with --tiny)
  --only a,b        run a subset of the sections: ${SECTIONS.join(', ')}
  --tiny            smoke mode for CI (tiny data, finishes in well under a minute)
  --memory-limit X  DuckDB memory limit for the pipeline and the raw reference (default 1GB)
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
  let memoryLimit = '1GB';
  let keep = false;
  let workDir = resolve(benchRoot, '.work');
  let resultsDir = resolve(benchRoot, 'results');
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
  return { scale, reps: reps ?? (tiny ? 1 : 3), only, tiny, memoryLimit, keep, workDir, resultsDir };
}

/**
 * Default sizes keep the whole run near two minutes on 2 cores; `--scale` multiplies rows (not days or
 * files, which set the per-file and per-day overheads being measured). The generator figure is a rate,
 * so it stops growing at scale 5: past that it only costs time and disk.
 */
export function sizesFor(options: BenchOptions): BenchSizes {
  const s = options.scale;
  const rows = (n: number) => Math.max(1, Math.round(n * s));
  if (options.tiny) {
    return {
      full: { days: 2, rowsPerDay: rows(5_000) },
      // Two points still show the slope; each point costs three CLI runs, which is what tiny must save.
      history: { points: [30, 90], rowsPerDay: rows(200), filesPerDay: 4 },
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
    full: { days: 4, rowsPerDay: rows(50_000) },
    history: { points: [30, 60, 90], rowsPerDay: rows(2_000), filesPerDay: 4 },
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
