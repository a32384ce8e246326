import type { Command } from 'commander';

/**
 * Every command, as the top-level help lists it, and where its registration lives. `--help` and
 * an unknown command need only this table: a command's module (and what it imports: DuckDB, the
 * AWS SDK, pg, the HTTP server) loads only when that command runs or shows its own help. The
 * `term` and `description` repeat what each module registers; test/cli/first-hour.test.ts keeps
 * them equal.
 */
export interface CommandEntry {
  name: string;
  /** As the top-level help shows it: name, `[options]`, arguments. */
  term: string;
  description: string;
  load: () => Promise<(program: Command) => void>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'materialize',
    term: 'materialize [options]',
    description:
      'Load new or changed files and update everything downstream; with --from/--to, reprocess those days',
    load: async () => (await import('./commands/materialize.js')).registerMaterialize,
  },
  {
    name: 'backfill',
    term: 'backfill [options]',
    description: 'Reprocess every asset over a range of days (files are re-read, aggregates rebuilt)',
    load: async () => (await import('./commands/materialize.js')).registerBackfill,
  },
  {
    name: 'query',
    term: 'query [options] <sql>',
    description: 'Run SQL against the warehouse',
    load: async () => (await import('./commands/query.js')).registerQuery,
  },
  {
    name: 'assets',
    term: 'assets [options]',
    description: 'List assets with their dependencies and last materialization',
    load: async () => (await import('./commands/assets.js')).registerAssets,
  },
  {
    name: 'runs',
    term: 'runs [options]',
    description: 'List recent runs (newest first); `runs show ID` for one run with its event log',
    load: async () => (await import('./commands/runs.js')).registerRuns,
  },
  {
    name: 'lineage',
    term: 'lineage [options] <asset>',
    description: 'Where an asset (or one day of it) came from: upstream assets, runs, files and source lines',
    load: async () => (await import('./commands/lineage.js')).registerLineage,
  },
  {
    name: 'insights',
    term: 'insights [options]',
    description: 'Print the billing insights report',
    load: async () => (await import('./commands/insights.js')).registerInsights,
  },
  {
    name: 'invoice-preview',
    term: 'invoice-preview [options]',
    description:
      "A user's month to date by service tier, resource type and operation: exact amounts, events, forecast total and the FX rates used",
    load: async () => (await import('./commands/invoice-preview.js')).registerInvoicePreview,
  },
  {
    name: 'budgets',
    term: 'budgets [options]',
    description:
      'List budgets (file and API) with the current period: spend to date, share used, forecast with its band, state',
    load: async () => (await import('./commands/budgets.js')).registerBudgets,
  },
  {
    name: 'checks',
    term: 'checks [options] [asset]',
    description:
      'Data quality check results: a summary with the failing checks first (the latest verdict of each check on each partition)',
    load: async () => (await import('./commands/checks.js')).registerChecks,
  },
  {
    name: 'alerts',
    term: 'alerts [options]',
    description: 'Alerts: list open and resolved alerts with their deliveries, send a test alert',
    load: async () => (await import('./commands/alerts.js')).registerAlerts,
  },
  {
    name: 'generate',
    term: 'generate [options]',
    description: 'Write realistic, reproducible Hive-partitioned sample billing data to S3 or a folder',
    load: async () => (await import('./commands/generate.js')).registerGenerate,
  },
  {
    name: 'dev',
    term: 'dev [options]',
    description:
      'Run the daemon for local work: like serve, with every sensor and schedule switched on and run logs in the console',
    load: async () => (await import('./commands/dev.js')).registerDev,
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description:
      'Run the daemon: owns the warehouse, runs the run queue, the sensors and schedules that are switched on, and the HTTP API',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    name: 'sensors',
    term: 'sensors [options]',
    description: 'Sensors that watch the source and request runs: list, start, stop, ticks',
    load: async () => (await import('./commands/sensors.js')).registerSensors,
  },
  {
    name: 'schedules',
    term: 'schedules [options]',
    description: 'Cron schedules that request runs: list, start, stop, ticks',
    load: async () => (await import('./commands/schedules.js')).registerSchedules,
  },
  {
    name: 'worker',
    term: 'worker [options]',
    description:
      'Scale-out mode: take runs and tasks (one file, one day) from the PostgreSQL job queue until stopped',
    load: async () => (await import('./commands/worker.js')).registerWorker,
  },
  {
    name: 'init',
    term: 'init [options] [file]',
    description: 'Write a commented billing-pipeline.yaml with every setting, its variable and its default',
    load: async () => (await import('./commands/init.js')).registerInit,
  },
  {
    name: 'retract',
    term: 'retract [options]',
    description:
      "Remove a file's events and rejected rows on purpose (e.g. a file deleted from the source), as a run; the aggregates follow",
    load: async () => (await import('./commands/retract.js')).registerRetract,
  },
];
