import type { Command } from 'commander';
import { markForRetraction, retractCandidates, UnknownFileError } from '../../billing/retract.js';
import type { RunSummary } from '../../orchestrator/run-executor.js';
import { materializeOnQueue } from '../../scale-out.js';
import { type CommonOptions, commonOptions, daemonFor, UsageError, withRuntime } from '../context.js';
import { runReporter } from '../progress.js';

interface RetractFlags extends CommonOptions {
  key?: string[];
  missing?: boolean;
}

async function retract(flags: RetractFlags): Promise<void> {
  if (!flags.missing && (flags.key ?? []).length === 0)
    throw new UsageError('retract needs --key KEY or --missing');
  if (flags.missing && (flags.key ?? []).length > 0)
    throw new UsageError('use either --key or --missing, not both');
  const daemon = await daemonFor(flags);
  if (daemon) {
    throw new UsageError(
      `a daemon (pid ${daemon.info.pid}, ${daemon.info.url}) holds this warehouse; retract writes the warehouse itself: stop the daemon, retract, then start it again`,
    );
  }
  const summary = await withRuntime(flags, async (runtime): Promise<RunSummary | null> => {
    const all = await retractCandidates(
      runtime.warehouse,
      flags.missing ? { missing: true } : { keys: flags.key ?? [] },
    ).catch((error: unknown) => {
      if (error instanceof UnknownFileError) {
        throw new UsageError(
          `${error.message} (keys are relative to the source, as \`billing-pipeline query "SELECT source_key, status FROM billing_files"\` lists them)`,
        );
      }
      throw error;
    });
    // A key without a day was never loaded: it has nothing to retract.
    const todo = all.filter((f) => f.status !== 'retracted' && f.partition !== null);
    for (const f of all.filter((c) => !todo.includes(c))) {
      process.stderr.write(
        f.status === 'retracted'
          ? `${f.source_key} is already retracted\n`
          : `${f.source_key} was never loaded (no day in its key): nothing to retract\n`,
      );
    }
    if (todo.length === 0) {
      process.stdout.write(flags.missing ? 'no missing files to retract\n' : 'nothing to retract\n');
      return null;
    }
    for (const f of todo) {
      process.stderr.write(
        `retracting ${f.source_key} (${f.status}, day ${f.partition ?? 'none'}, ${f.row_count ?? 0} event(s))\n`,
      );
    }
    const request = await markForRetraction(
      runtime.warehouse,
      runtime.graph,
      todo.map((f) => f.source_key),
    );
    const options = { emitter: runReporter() };
    return runtime.scaleOut
      ? materializeOnQueue(await runtime.scaleOut(), runtime.ledger, request, options)
      : runtime.materialize(request, options);
  });
  if (!summary) return;
  const events = summary.assets.find((a) => a.asset === 'billing_events')?.result?.metadata ?? {};
  process.stdout.write(
    `run ${summary.runId} ${summary.status}: ${Number(events.retractedFiles ?? 0)} file(s) retracted\n`,
  );
  if (summary.status !== 'success') {
    process.stderr.write(`error: ${summary.error ?? summary.status}\n`);
    process.exitCode = 1;
  }
}

export function registerRetract(program: Command): void {
  commonOptions(
    program
      .command('retract')
      .description(
        "Remove a file's events and rejected rows on purpose (e.g. a file deleted from the source), as a run; the aggregates follow",
      )
      .option(
        '--key <key>',
        'a source key as billing_files has it (repeatable)',
        (v: string, all: string[] = []) => [...all, v],
      )
      .option('--missing', "every file whose status is 'missing' (deleted from the source)"),
    true,
  )
    .addHelpText(
      'after',
      `
A retracted file stays out until its version changes (a forced reprocess does not bring it back).
The run (trigger "retract") shows in \`runs\`; lineage lists KEY@retracted for its day.

Examples:
  $ billing-pipeline retract --missing
  $ billing-pipeline retract --key "year=2025/month=04/day=23/export (1).csv"`,
    )
    .action((flags: RetractFlags) => retract(flags));
}
