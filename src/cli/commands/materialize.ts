import type { Command } from 'commander';
import { type BackfillPartition, type BackfillSummary, Backfills } from '../../orchestrator/backfill.js';
import { type DayRange, parseDayRange } from '../../orchestrator/days.js';
import type { RunRequest, RunSummary } from '../../orchestrator/run-executor.js';
import type { Runtime } from '../../runtime.js';
import { materializeOnQueue } from '../../scale-out.js';
import type { DaemonClient } from '../../server/daemon-client.js';
import {
  type CommonOptions,
  cliConfig,
  commonOptions,
  daemonFor,
  UsageError,
  withRuntime,
} from '../context.js';
import { escapeControlChars } from '../format.js';
import { runReporter } from '../progress.js';
import { emptyRangeMessage, sourceFilesInRange } from '../range-files.js';
import { type RejectedFile, rejectedFilesBlock, runRejectedFiles } from '../rejected-files.js';

interface MaterializeFlags extends CommonOptions {
  /** Commander's negation of --no-wait: false when the command should return once the run is queued. */
  wait?: boolean;
  select?: string;
  from?: string;
  to?: string;
  fullRefresh?: boolean;
  upstream?: boolean;
  runKey?: string;
  /** backfill: run even when the source holds no files for the range. */
  allowEmpty?: boolean;
}

function rangeFrom(flags: { from?: string; to?: string }): DayRange | null {
  if (flags.from === undefined && flags.to === undefined) return null;
  if (flags.from === undefined || flags.to === undefined) throw new UsageError('--from and --to go together');
  return parseDayRange(flags.from, flags.to);
}

/** Whether a run of this request materializes billing_files (so lists the source). */
function listsSource(request: RunRequest): boolean {
  const selection = request.selection ?? [];
  return selection.length === 0 || request.withUpstream === true || selection.includes('billing_files');
}

/** Prints the outcome and sets the exit code: 0 on success (even with rejected rows), 1 when the run failed. */
async function runAndReport(flags: MaterializeFlags, request: RunRequest): Promise<void> {
  let rejected: RejectedFile[] = [];
  const run = { runsBillingFiles: listsSource(request) };
  const summary: RunSummary | null = await withRuntime(
    flags,
    async (runtime) => {
      for (const name of request.selection ?? []) runtime.graph.get(name);
      if (runtime.scaleOut && flags.wait === false) {
        const { runId, deduplicated } = await (await runtime.scaleOut()).runs.submit(request);
        process.stdout.write(
          deduplicated ? `run key ${request.runKey} already ran as ${runId}\n` : `run ${runId} queued\n`,
        );
        return null;
      }
      const controller = new AbortController();
      const onSignal = () => {
        process.stderr.write('\ncanceling after the current step (Ctrl-C again to force)...\n');
        controller.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      try {
        const options = { emitter: runReporter(), signal: controller.signal };
        // Scale-out: the workers run it; this process queues it and follows it in the ledger.
        const { queue } = runtime.config;
        const done = runtime.scaleOut
          ? await materializeOnQueue(await runtime.scaleOut(), runtime.ledger, request, {
              ...options,
              notice: (line) => process.stderr.write(`note: ${line}\n`),
              noticeAfterMs: queue.workerNoticeAfterSeconds * 1000,
              waitTimeoutMs: queue.waitTimeoutSeconds * 1000,
            })
          : await runtime.materialize(request, options);
        const metadata = done.assets.find((a) => a.asset === 'billing_events')?.result?.metadata ?? {};
        if (Number(metadata.rejectedFiles ?? 0) > 0)
          rejected = await runRejectedFiles(runtime.warehouse, done.runId);
        return done;
      } finally {
        process.off('SIGINT', onSignal);
      }
    },
    run,
  );
  if (!summary) return;
  if (summary.deduplicatedBy) {
    process.stdout.write(
      `run key ${summary.deduplicatedBy} already ran as ${summary.runId} (${summary.status}); nothing to do\n`,
    );
    return;
  }
  const events = summary.assets.find((a) => a.asset === 'billing_events')?.result?.metadata ?? {};
  const rows = Number(events.rows ?? 0);
  const rejectedRows = Number(events.rejectedRows ?? 0);
  const rejectedFiles = Number(events.rejectedFiles ?? 0);
  const parts = [`run ${summary.runId} ${summary.status}`];
  if (events.files !== undefined) parts.push(`${rows} row(s) loaded`);
  if (rejectedRows > 0) parts.push(`${rejectedRows} row(s) rejected (see table rejected_rows)`);
  if (rejectedFiles > 0) parts.push(`${rejectedFiles} file(s) rejected (see table rejected_files)`);
  const duplicates = Number(events.duplicateFiles ?? 0);
  if (duplicates > 0)
    parts.push(`${duplicates} duplicate file(s) not counted again (see billing_files.duplicate_of)`);
  const listed = summary.assets.find((a) => a.asset === 'billing_files')?.result?.metadata ?? {};
  const skipped = Number(listed.skipped ?? 0);
  if (skipped > 0) {
    parts.push(
      `${skipped} file(s) skipped: ${listed.skippedExample}${skipped > 1 ? '; …' : ''} (see billing_files)`,
    );
  }
  // File keys and error texts come from the data: no control character reaches the terminal raw.
  process.stdout.write(`${escapeControlChars(parts.join(', '))}\n`);
  if (rejectedFiles > 0)
    process.stdout.write(`${rejectedFilesBlock(rejectedFiles, rejected, process.stdout.isTTY === true)}\n`);
  // Not a failure: no FX source is configured, so some amounts have no reporting-currency value.
  if (typeof events.fxNotice === 'string')
    process.stderr.write(`notice: ${escapeControlChars(events.fxNotice)}\n`);
  if (summary.status !== 'success') {
    process.stderr.write(`error: ${escapeControlChars(summary.error ?? summary.status)}\n`);
    process.exitCode = 1;
  }
}

export function registerMaterialize(program: Command): void {
  commonOptions(
    program
      .command('materialize')
      .description(
        'Load new or changed files and update everything downstream; with --from/--to, reprocess those days',
      )
      .option('--select <assets>', 'comma-separated assets to materialize (default: all)')
      .option('--upstream', 'also materialize the upstream assets of --select')
      .option('--from <day>', 'first day to reprocess (YYYY-MM-DD)')
      .option('--to <day>', 'last day to reprocess (YYYY-MM-DD)')
      .option('--full-refresh', 'rebuild the selected aggregates from all events')
      .option('--run-key <key>', 'skip if a run with this key already ran')
      .option('--no-wait', 'scale-out mode: return once the run is queued, without waiting for the workers'),
    true,
  )
    .addHelpText(
      'after',
      `
Examples:
  $ billing-pipeline materialize --source s3://billing/exports/
  $ billing-pipeline materialize --from 2025-04-01 --to 2025-04-07
  $ billing-pipeline materialize --select daily_aggregates,billing_insights --full-refresh`,
    )
    .action(async (flags: MaterializeFlags) => {
      const selection = flags.select
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const range = rangeFrom(flags);
      if (range) await warnIfEmpty(flags, range);
      await runAndReport(flags, {
        selection,
        withUpstream: flags.upstream,
        range,
        fullRefresh: flags.fullRefresh,
        trigger: 'cli',
        runKey: flags.runKey,
      });
    });
}

export function registerBackfill(program: Command): void {
  commonOptions(
    program
      .command('backfill')
      .description('Reprocess every asset over a range of days (files are re-read, aggregates rebuilt)')
      .option('--from <day>', 'first day (YYYY-MM-DD)')
      .option('--to <day>', 'last day (YYYY-MM-DD)')
      .option('--config <file>', 'YAML with ops.billing_files.config.{from_date,to_date}')
      .option('--allow-empty', 'run even when the source holds no files for the range')
      .option('--no-wait', 'scale-out mode: return once the partition runs are queued'),
    true,
    false,
  )
    .addHelpText(
      'after',
      `
Examples:
  $ billing-pipeline backfill --from 2025-04-01 --to 2025-04-30
  $ billing-pipeline backfill --config configs/backfill.yaml`,
    )
    .action(async (backfillFlags: MaterializeFlags & { config?: string }) => {
      // Here --config is the range file; the project file comes from BILLING_CONFIG or the usual places.
      const { config: rangeFile, ...flags } = backfillFlags;
      if (rangeFile && (flags.from || flags.to))
        throw new UsageError('use either --config or --from/--to, not both');
      const range = rangeFile
        ? await (await import('../backfill-config.js')).readBackfillConfig(rangeFile)
        : rangeFrom(flags);
      if (!range) throw new UsageError('backfill needs --from and --to, or --config');
      const found = await sourceFilesInRange(cliConfig(flags), range);
      if (found && found.inRange === 0) {
        if (!flags.allowEmpty) {
          process.stderr.write(
            `error: ${escapeControlChars(emptyRangeMessage(found, range, 'nothing to backfill'))}; add --allow-empty to run it anyway\n`,
          );
          process.exitCode = 1;
          return;
        }
        process.stderr.write(
          `warning: ${escapeControlChars(emptyRangeMessage(found, range, 'running anyway (--allow-empty)'))}\n`,
        );
      }
      if (cliConfig(flags).databaseUrl) {
        await withRuntime(flags, (runtime) =>
          followBackfill(queueTracker(runtime), range, flags.wait !== false),
        );
        return;
      }
      const daemon = await daemonFor(flags);
      if (daemon) {
        const { checkHandoff } = await import('../../server/daemon-client.js');
        await checkHandoff(
          daemon,
          cliConfig(flags),
          (line) => process.stderr.write(`${line}\n`),
          'the backfill',
        );
        await followBackfill(daemonTracker(daemon), range, true);
        return;
      }
      await runAndReport(flags, {
        range,
        trigger: 'backfill',
        tags: { backfill: `${range.from}..${range.to}` },
      });
    });
}

/** A reprocess of days without source files rebuilds nothing from new data: said before it runs. */
async function warnIfEmpty(flags: MaterializeFlags, range: DayRange): Promise<void> {
  const found = await sourceFilesInRange(cliConfig(flags), range);
  if (found && found.inRange === 0)
    process.stderr.write(
      `warning: ${escapeControlChars(emptyRangeMessage(found, range, 'the reprocess finds nothing to load'))}\n`,
    );
}

/** Where a tracked backfill lives: the daemon (embedded mode) or the ledger and job queue (scale-out). */
interface BackfillTracker {
  where: string;
  create(range: DayRange): Promise<string>;
  get(id: string): Promise<{ backfill: BackfillSummary; partitions: BackfillPartition[] }>;
  cancel(id: string): Promise<unknown>;
}

function daemonTracker(daemon: DaemonClient): BackfillTracker {
  return {
    where: 'queued in the daemon',
    create: async (range) => (await daemon.createBackfill(range)).backfillId,
    get: (id) =>
      daemon.backfill(id) as Promise<{ backfill: BackfillSummary; partitions: BackfillPartition[] }>,
    cancel: (id) => daemon.cancelBackfill(id),
  };
}

async function queueTracker(runtime: Runtime): Promise<BackfillTracker> {
  const scaleOut = await runtime.scaleOut?.();
  if (!scaleOut) throw new Error('the scale-out mode needs BILLING_DATABASE_URL');
  const backfills = new Backfills({
    warehouse: runtime.warehouse,
    launcher: scaleOut.runs,
    allAssets: runtime.graph.assets.map((a) => a.name),
  });
  return {
    where: 'queued for the workers',
    create: (range) => backfills.create({ range }),
    get: async (id) => {
      const found = await backfills.get(id);
      if (!found) throw new Error(`backfill ${id} disappeared`);
      return found;
    },
    cancel: (id) => backfills.cancel(id),
  };
}

/**
 * A backfill is a tracked object (one run per day, visible in the UI, cancelable); the command
 * follows it and exits 1 unless every partition succeeded.
 */
async function followBackfill(
  trackerOrPromise: BackfillTracker | Promise<BackfillTracker>,
  range: DayRange,
  wait: boolean,
): Promise<void> {
  const tracker = await trackerOrPromise;
  const backfillId = await tracker.create(range);
  process.stderr.write(
    `backfill ${backfillId}: one run per day, ${range.from}..${range.to}, ${tracker.where}\n`,
  );
  if (!wait) {
    process.stdout.write(`backfill ${backfillId} queued\n`);
    return;
  }
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('\ncanceling the backfill (runs stop at their next safe point)...\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  const reported = new Set<string>();
  let cancelRequested = false;
  try {
    for (;;) {
      if (controller.signal.aborted && !cancelRequested) {
        cancelRequested = true;
        await tracker.cancel(backfillId);
      }
      const { backfill, partitions } = await tracker.get(backfillId);
      for (const p of partitions) {
        if (p.status === 'queued' || p.status === 'running' || reported.has(p.run_id)) continue;
        reported.add(p.run_id);
        process.stderr.write(`  ${p.partition}  ${p.status.padEnd(8)}  run ${p.run_id}\n`);
      }
      if (backfill.status !== 'queued' && backfill.status !== 'running') {
        const { counts } = backfill;
        process.stdout.write(
          `backfill ${backfillId} ${backfill.status}: ${backfill.partitions_total} partition(s), ${counts.success} succeeded, ${counts.failed} failed, ${counts.canceled} canceled\n`,
        );
        if (backfill.status !== 'success') {
          const failed = partitions.filter((p) => p.status !== 'success').map((p) => p.partition);
          process.stderr.write(
            `error: partitions not done: ${failed.join(', ')} (see billing-pipeline runs)\n`,
          );
          process.exitCode = 1;
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}
