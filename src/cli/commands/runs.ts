import type { Command } from 'commander';
import { DEFAULT_QUALITY_CONFIG } from '../../billing/checks/quality-config.js';
import type { Row } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, daemonFor, UsageError, withRuntime } from '../context.js';
import { ABSENT, cellText, escapeControlChars, shownText, toTable } from '../format.js';

/** The daemon's "not found" (its client loads only when a daemon runs). */
async function isNotFound(error: unknown): Promise<boolean> {
  const { DaemonError } = await import('../../server/daemon-client.js');
  return error instanceof DaemonError && error.status === 404;
}

import { formatFlag } from './sensors.js';

export function registerRuns(program: Command): void {
  const runs = commonOptions(
    program
      .command('runs')
      .description('List recent runs (newest first); `runs show ID` for one run with its event log')
      .option('--limit <n>', 'how many runs', '20')
      .option('--format <format>', 'table | json', 'table'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ billing-pipeline runs --limit 5\n  $ billing-pipeline runs show 20250423-101500-a1b2c3',
    )
    .action(async (flags: CommonOptions & { limit: string; format: string }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit must be a positive integer; got "${flags.limit}"`);
      const daemon = await daemonFor(flags);
      const rows: Row[] = daemon
        ? (await daemon.runs(limit)).runs
        : await withRuntime(flags, (runtime) => runtime.ledger.listRuns(limit));
      if (flags.format === 'json') {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('No runs yet; start one with: billing-pipeline materialize\n');
        return;
      }
      const headers = [
        'run_id',
        'status',
        'trigger',
        'partition_from',
        'partition_to',
        'started_at',
        'duration_ms',
        'error',
      ];
      process.stdout.write(
        `${toTable(
          headers,
          rows.map((r) => headers.map((h) => r[h] ?? null)),
        )}\n`,
      );
    });

  commonOptions(
    runs
      .command('show')
      .description('One run: its assets, timings and structured event log')
      .argument('<run-id>')
      .option('--format <format>', 'table | json', 'table'),
  ).action(async (runId: string, flags: CommonOptions, command: Command) => {
    const options = { ...runs.opts(), ...flags };
    const daemon = await daemonFor(options);
    const detail: { run: Row; assets: Row[]; events: Row[] } | null = daemon
      ? ((await daemon.run(runId).catch(async (error: unknown) => {
          if (await isNotFound(error)) return null;
          throw error;
        })) as { run: Row; assets: Row[]; events: Row[] } | null)
      : await withRuntime(options, (runtime) => runtime.ledger.getRun(runId));
    if (!detail) throw new UsageError(`no run "${runId}"; list runs with: billing-pipeline runs`);
    // In-process the ledger's row carries the JSON column; the daemon's API already parsed it.
    const config =
      'config' in detail
        ? (detail as { config: Record<string, unknown> | null }).config
        : parseConfig(detail.run.config);
    if (formatFlag(runs, command) === 'json') {
      const { config: _column, ...run } = detail.run;
      process.stdout.write(`${JSON.stringify({ ...detail, run, config }, null, 2)}\n`);
      return;
    }
    const { run, assets, events } = detail;
    const out = [
      `run ${shownText(run.run_id)}  ${shownText(run.status)}  trigger=${shownText(run.trigger)}`,
      `started ${shownText(run.started_at)}  finished ${shownText(run.finished_at)}  ${run.duration_ms === null || run.duration_ms === undefined ? ABSENT : `${cellText(run.duration_ms)} ms`}`,
    ];
    if (run.partition_from)
      out.push(`partitions ${cellText(run.partition_from)} .. ${cellText(run.partition_to)}`);
    if (run.error) out.push(`error: ${escapeControlChars(cellText(run.error))}`);
    const assetCols = ['asset', 'status', 'changed', 'row_count', 'duration_ms', 'error'];
    out.push(
      '',
      toTable(
        assetCols,
        assets.map((a) => assetCols.map((c) => a[c] ?? null)),
      ),
      '',
      ...configLines(config),
      'events:',
    );
    for (const e of events) {
      out.push(
        `  ${cellText(e.logged_at)}  ${cellText(e.level).padEnd(5)}  ${e.asset ? `[${cellText(e.asset)}] ` : ''}${escapeControlChars(cellText(e.message))}`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });

  commonOptions(
    runs
      .command('cancel')
      .description('Stop a queued run, or a running one at its next safe point (committed work stays)')
      .argument('<run-id>'),
  ).action(async (runId: string, flags: CommonOptions) => {
    const options = { ...runs.opts(), ...flags };
    const daemon = await daemonFor(options);
    if (daemon) {
      const { canceled } = await daemon.cancelRun(runId).catch(async (error: unknown) => {
        if (await isNotFound(error))
          throw new UsageError(`no run "${runId}"; list runs with: billing-pipeline runs`);
        throw error;
      });
      const { run } = await daemon.run(runId);
      process.stdout.write(
        canceled
          ? `run ${runId}: cancel requested (${run.status}); it stops at its next safe point\n`
          : `run ${runId} is ${run.status}; nothing to cancel\n`,
      );
      return;
    }
    // Without a daemon nothing runs in the background here: a queued run can be canceled, and in
    // the scale-out mode a running one through its job, which its worker watches.
    const outcome = await withRuntime(options, async (runtime) => {
      const stored = await runtime.ledger.runRequest(runId);
      if (!stored) throw new UsageError(`no run "${runId}"; list runs with: billing-pipeline runs`);
      const canceled = runtime.scaleOut
        ? await (await runtime.scaleOut()).runs.cancel(runId)
        : await runtime.ledger.cancelQueuedRun(runId);
      return { canceled, status: stored.status };
    });
    process.stdout.write(
      outcome.canceled
        ? `run ${runId}: ${outcome.status === 'queued' ? 'canceled (it was queued)' : 'cancel requested; it stops at its next safe point'}\n`
        : `run ${runId} is ${outcome.status}; nothing to cancel\n`,
    );
  });
}

function parseConfig(value: unknown): Record<string, unknown> | null {
  if (typeof value !== 'string' || value === '') return null;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function flatten(value: unknown, prefix: string, out: [string, unknown][]): [string, unknown][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, out);
  } else out.push([prefix, value]);
  return out;
}

/**
 * The configuration the run recorded, one dotted key a line; check settings only where they
 * differ from the built-in defaults (`--format json` has them all).
 */
function configLines(config: Record<string, unknown> | null): string[] {
  if (!config) return ['config: not recorded (a run from before runs recorded it)', ''];
  const { checks, ...settings } = config;
  const defaults = new Map(
    flatten(DEFAULT_QUALITY_CONFIG, 'checks', []).map(([k, v]) => [k, JSON.stringify(v)]),
  );
  const changed = flatten(checks ?? {}, 'checks', []).filter(
    ([k, v]) => defaults.get(k) !== JSON.stringify(v),
  );
  const lines = flatten(settings, '', []).map(
    ([key, value]) =>
      `  ${key}: ${value === null || value === undefined ? 'not set' : escapeControlChars(cellText(value as never))}`,
  );
  lines.push(
    changed.length === 0
      ? '  checks: built-in defaults'
      : changed.map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`).join('\n'),
  );
  return ['config (secrets redacted):', ...lines, ''];
}
