import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { AutomationStore, type Tick } from '../../orchestrator/automation-store.js';
import { FILE_SENSOR, S3_SENSOR } from '../../server/automation-definitions.js';
import { AutomationService } from '../../server/automation-service.js';
import {
  type ApiSchedule,
  type ApiSensor,
  type DaemonClient,
  DaemonError,
} from '../../server/daemon-client.js';
import type { Cell } from '../../warehouse/warehouse.js';
import {
  type CommonOptions,
  cliConfig,
  commonOptions,
  daemonFor,
  UsageError,
  withRuntime,
} from '../context.js';
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
  local: (service: AutomationService, store: AutomationStore, config: Config) => Promise<T>,
): Promise<{ value: T; live: boolean }> {
  const daemon = await daemonFor(options);
  if (daemon) {
    const value = await viaDaemon(daemon).catch((error: unknown) => {
      if (error instanceof DaemonError && error.status === 404) throw new UsageError(error.message);
      throw error;
    });
    return { value, live: true };
  }
  const value = await withRuntime(options, (runtime) => {
    const store = new AutomationStore(runtime.warehouse);
    return local(new AutomationService({ config: runtime.config, store }), store, runtime.config).catch(
      (error: unknown) => {
        if (error instanceof Error && error.name === 'UnknownInstigatorError')
          throw new UsageError(error.message);
        throw error;
      },
    );
  });
  return { value, live: false };
}

const NO_SOURCE = 'no source is set (BILLING_SOURCE, --source, or source: in billing-pipeline.yaml)';

const NO_DAEMON = (kind: Kind) =>
  `No daemon is running: ${kind} only tick inside \`billing-pipeline serve\` (or \`dev\`), so nothing runs now. Start one with: billing-pipeline serve`;

/** A listed sensor or schedule; `configured: false` for one saved by an earlier daemon but not defined here. */
type Listed = Item & { configured: boolean; ticking: boolean };

/**
 * What the command lists: the configuration's definitions, plus any saved by an earlier daemon
 * that the configuration no longer defines (the demo's S3 sensor once the demo has stopped), so
 * a sensor does not silently vanish from the list.
 */
async function localItems(kind: Kind, service: AutomationService, store: AutomationStore): Promise<Listed[]> {
  const defined: Item[] = kind === 'sensors' ? await service.listSensors() : await service.listSchedules();
  const [states, ticks] = await Promise.all([store.states(), store.lastTicks()]);
  const listed: Listed[] = defined.map((item) => ({
    ...item,
    // Nothing ticks without a daemon: no next tick to promise.
    next_tick_at: null,
    configured: true,
    ticking: false,
  }));
  for (const state of states.values()) {
    if (state.kind !== singular(kind) || defined.some((d) => d.name === state.name)) continue;
    listed.push({
      name: state.name,
      kind: state.kind,
      description: 'saved by an earlier daemon; not defined by this configuration',
      enabled: state.enabled,
      interval_seconds: null,
      cron: null,
      cursor: state.cursor,
      last_tick: ticks.get(state.name) ?? null,
      next_tick_at: null,
      configured: false,
      ticking: false,
    } as unknown as Listed);
  }
  return listed;
}

const lastTick = (tick: Tick | null): Cell =>
  tick
    ? `${tick.outcome} ${tick.started_at}${tick.run_ids.length ? ` (${tick.run_ids.join(', ')})` : ''}`
    : null;

function stateText(item: Listed): string {
  if (!item.enabled) return 'off';
  if (!item.configured) return 'on (not configured here)';
  return item.ticking ? 'on' : 'on (not ticking: no daemon)';
}

function printItems(kind: Kind, items: Listed[], format: string, live: boolean, config: Config): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  const rows = items.map((item) => {
    const schedule = 'cron' in item ? item : null;
    const sensor = item as ApiSensor;
    return [
      item.name,
      stateText(item),
      schedule
        ? schedule.cron === null
          ? null
          : `${schedule.cron} (${schedule.timezone})`
        : sensor.interval_seconds === null
          ? null
          : `every ${sensor.interval_seconds} s`,
      lastTick(item.last_tick),
      item.next_tick_at,
    ];
  });
  const out: string[] = [];
  if (items.length > 0)
    out.push(
      toTable(['name', 'state', kind === 'sensors' ? 'interval' : 'cron', 'last tick', 'next tick'], rows),
    );
  else
    out.push(
      kind === 'sensors' && !config.source
        ? `No sensors: a sensor watches the source, and ${NO_SOURCE}.`
        : `No ${kind}.`,
    );
  const unconfigured = items.filter((i) => !i.configured).map((i) => i.name);
  if (unconfigured.length > 0)
    out.push(
      '',
      `${unconfigured.join(', ')}: saved by an earlier daemon, not defined here: ${config.source ? `this configuration's source is ${config.source}` : NO_SOURCE}.`,
    );
  if (!live) out.push('', NO_DAEMON(kind));
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Why `name` is not a sensor or schedule here, in words a user can act on. */
function unknownName(kind: Kind, name: string, config: Config): UsageError {
  const what = singular(kind);
  if (kind === 'sensors' && (name === S3_SENSOR || name === FILE_SENSOR)) {
    const watches = name === S3_SENSOR ? 'an s3:// source' : 'a local folder source';
    return new UsageError(
      `sensor ${name} is not configured here: it watches ${watches}, and ${config.source ? `this configuration's source is ${config.source}` : NO_SOURCE}`,
    );
  }
  return new UsageError(`no ${what} named "${name}"; list them with: billing-pipeline ${kind}`);
}

export function registerInstigatorCommands(program: Command, kind: Kind): void {
  const what = singular(kind);
  const list = async (options: CommonOptions, format: string) => {
    const { value, live } = await inDaemonOrLocal<Listed[]>(
      options,
      async (daemon) =>
        (await daemon.instigators(kind)).map((item) => ({
          ...item,
          configured: true,
          ticking: item.enabled,
        })),
      (service, store) => localItems(kind, service, store),
    );
    printItems(kind, value, format, live, cliConfig(options));
  };
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
      await list(flags, flags.format);
    });

  commonOptions(
    group
      .command('list')
      .description(`List ${kind} with state, last and next tick`)
      .option('--format <format>', 'table | json', 'table'),
    true,
  ).action(async (flags: CommonOptions & { format: string }, command: Command) => {
    await list({ ...group.opts(), ...flags }, formatFlag(group, command));
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
      const { value: live } = await inDaemonOrLocal(
        { ...group.opts(), ...flags },
        async (daemon) => {
          await daemon.setEnabled(kind, name, enabled);
          return true;
        },
        async (service, _store, config) => {
          if (service.kindOf(name) !== what) throw unknownName(kind, name, config);
          await service.setEnabled(name, enabled);
          return false;
        },
      );
      const note = live
        ? ''
        : ' (no daemon is running: saved; it ticks once `billing-pipeline serve` or `dev` starts)';
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
    const { value: ticks } = await inDaemonOrLocal<Tick[]>(
      { ...group.opts(), ...flags },
      (daemon) => daemon.ticks(kind, name, limit),
      async (service, store, config) => {
        if (service.kindOf(name) === what) return service.ticks(name, limit);
        // A sensor saved by an earlier daemon still has its ticks, though not defined here.
        if ((await store.states()).get(name)?.kind === what) return store.ticks(name, limit);
        throw unknownName(kind, name, config);
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
