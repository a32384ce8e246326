import type { Command } from 'commander';
import { AutomationStore, type Tick } from '../../orchestrator/automation-store.js';
import { AutomationService } from '../../server/automation-service.js';
import {
  type ApiSchedule,
  type ApiSensor,
  type DaemonClient,
  DaemonError,
} from '../../server/daemon-client.js';
import type { Cell } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, daemonFor, UsageError, withRuntime } from '../context.js';
import { toTable } from '../format.js';

type Kind = 'sensors' | 'schedules';
type Item = ApiSensor | ApiSchedule;

const singular = (kind: Kind) => (kind === 'sensors' ? 'sensor' : 'schedule');

/**
 * `--format` of a subcommand whose group also has `--format`: the group's parser takes the flag
 * wherever it is written (`sensors list --format json`), leaving the subcommand only its default.
 */
export function formatFlag(group: Command, sub: Command): string {
  const own = sub.getOptionValueSource('format') === 'cli';
  return String(own ? sub.opts().format : group.opts().format);
}

/** Lists, switches and shows ticks through the daemon when one runs, else on the saved state. */
async function inDaemonOrLocal<T>(
  options: CommonOptions,
  viaDaemon: (daemon: DaemonClient) => Promise<T>,
  local: (service: AutomationService) => Promise<T>,
): Promise<T> {
  const daemon = await daemonFor(options);
  if (daemon) {
    return viaDaemon(daemon).catch((error: unknown) => {
      if (error instanceof DaemonError && error.status === 404) throw new UsageError(error.message);
      throw error;
    });
  }
  return withRuntime(options, (runtime) =>
    local(
      new AutomationService({ config: runtime.config, store: new AutomationStore(runtime.warehouse) }),
    ).catch((error: unknown) => {
      if (error instanceof Error && error.name === 'UnknownInstigatorError')
        throw new UsageError(error.message);
      throw error;
    }),
  );
}

const lastTick = (tick: Tick | null): Cell =>
  tick
    ? `${tick.outcome} ${tick.started_at}${tick.run_ids.length ? ` (${tick.run_ids.join(', ')})` : ''}`
    : null;

function printItems(kind: Kind, items: Item[], format: string): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  const rows = items.map((item) => {
    const schedule = 'cron' in item ? item : null;
    return [
      item.name,
      item.enabled ? 'on' : 'off',
      schedule
        ? `${schedule.cron} (${schedule.timezone})`
        : `every ${(item as ApiSensor).interval_seconds} s`,
      lastTick(item.last_tick),
      item.next_tick_at,
    ];
  });
  process.stdout.write(
    `${toTable(['name', 'state', kind === 'sensors' ? 'interval' : 'cron', 'last tick', 'next tick'], rows)}\n`,
  );
}

export function registerInstigatorCommands(program: Command, kind: Kind): void {
  const what = singular(kind);
  const group = commonOptions(
    program
      .command(kind)
      .description(
        kind === 'sensors'
          ? 'Sensors that watch the source and request runs: list, start, stop, ticks'
          : 'Cron schedules that request runs: list, start, stop, ticks',
      )
      .option('--format <format>', 'table | json', 'table'),
    true,
  )
    .addHelpText(
      'after',
      `
On/off state is saved in the warehouse, so it survives restarts and works without a daemon.

Examples:
  $ billing-pipeline ${kind}
  $ billing-pipeline ${kind} ${kind === 'sensors' ? 'stop s3_partition_sensor' : 'start daily_billing'}
  $ billing-pipeline ${kind} ticks ${kind === 'sensors' ? 's3_partition_sensor' : 'daily_billing'} --limit 5`,
    )
    .action(async (flags: CommonOptions & { format: string }) => {
      const items = await inDaemonOrLocal<Item[]>(
        flags,
        (daemon) => daemon.instigators(kind),
        (service) => (kind === 'sensors' ? service.listSensors() : service.listSchedules()),
      );
      printItems(kind, items, flags.format);
    });

  commonOptions(
    group
      .command('list')
      .description(`List ${kind} with state, last and next tick`)
      .option('--format <format>', 'table | json', 'table'),
    true,
  ).action(async (flags: CommonOptions & { format: string }, command: Command) => {
    const options: CommonOptions = { ...group.opts(), ...flags };
    const items = await inDaemonOrLocal<Item[]>(
      options,
      (daemon) => daemon.instigators(kind),
      (service) => (kind === 'sensors' ? service.listSensors() : service.listSchedules()),
    );
    printItems(kind, items, formatFlag(group, command));
  });

  for (const action of ['start', 'stop'] as const) {
    commonOptions(
      group
        .command(action)
        .description(`Switch a ${what} ${action === 'start' ? 'on' : 'off'} (saved: survives restarts)`)
        .argument('<name>'),
      true,
    ).action(async (name: string, flags: CommonOptions) => {
      const enabled = action === 'start';
      const live = await inDaemonOrLocal(
        { ...group.opts(), ...flags },
        async (daemon) => {
          await daemon.setEnabled(kind, name, enabled);
          return true;
        },
        async (service) => {
          if (service.kindOf(name) !== what)
            throw new UsageError(`no ${what} named "${name}"; list them with: billing-pipeline ${kind}`);
          await service.setEnabled(name, enabled);
          return false;
        },
      );
      const note = live
        ? ''
        : ' (no daemon is running: it takes effect when `billing-pipeline serve` starts)';
      process.stdout.write(`${what} ${name} ${enabled ? 'started' : 'stopped'}${note}\n`);
    });
  }

  commonOptions(
    group
      .command('ticks')
      .description(`Recent ticks of a ${what}: outcome, skip reason, runs requested, cursor`)
      .argument('<name>')
      .option('--limit <n>', 'how many ticks', '20')
      .option('--format <format>', 'table | json', 'table'),
    true,
  ).action(async (name: string, flags: CommonOptions & { limit: string }, command: Command) => {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError(`--limit must be a whole number from 1 to 1000; got "${flags.limit}"`);
    const ticks = await inDaemonOrLocal<Tick[]>(
      { ...group.opts(), ...flags },
      (daemon) => daemon.ticks(kind, name, limit),
      async (service) => {
        if (service.kindOf(name) !== what)
          throw new UsageError(`no ${what} named "${name}"; list them with: billing-pipeline ${kind}`);
        return service.ticks(name, limit);
      },
    );
    if (formatFlag(group, command) === 'json') {
      process.stdout.write(`${JSON.stringify(ticks, null, 2)}\n`);
      return;
    }
    const headers = ['tick_id', 'started_at', 'outcome', 'runs', 'reason'];
    const rows = ticks.map((t) => [
      t.tick_id,
      t.started_at,
      t.outcome,
      t.run_ids.join(', '),
      t.error ?? t.skip_reason,
    ]);
    process.stdout.write(`${toTable(headers, rows)}\n`);
  });
}

export function registerSensors(program: Command): void {
  registerInstigatorCommands(program, 'sensors');
}
