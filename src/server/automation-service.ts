import type { Config } from '../config.js';
import type { AutomationLoop, Instigator } from '../orchestrator/automation-loop.js';
import type { AutomationStore, InstigatorKind, Tick } from '../orchestrator/automation-store.js';
import { nextEvaluation, runScheduleTick, type ScheduleDefinition } from '../orchestrator/schedule.js';
import { type RunSubmitter, runSensorTick, type TickReport } from '../orchestrator/sensor.js';
import type { SourceSensor } from '../orchestrator/source-sensor.js';
import type { SourceError } from '../sources/source.js';
import { createSensor, type SensorSpec, scheduleDefinitions, sensorSpecs } from './automation-definitions.js';

export interface SensorView {
  name: string;
  kind: string;
  description: string;
  enabled: boolean;
  interval_seconds: number;
  cursor: string | null;
  last_tick: Tick | null;
  next_tick_at: string | null;
}

export interface ScheduleView {
  name: string;
  kind: 'schedule';
  description: string;
  enabled: boolean;
  cron: string;
  timezone: string;
  cursor: string | null;
  last_tick: Tick | null;
  next_tick_at: string | null;
}

/** One evaluation this process made, as listeners (daemon log, metrics) hear it. */
export interface TickEvent {
  kind: InstigatorKind;
  name: string;
  report: TickReport;
}

export interface SensorFreshness {
  name: string;
  enabled: boolean;
  /** Start of the newest tick that did not fail; null when none did. */
  lastSuccessAt: Date | null;
}

/** The daemon's moving parts; absent when the service only reads and writes persisted state. */
export interface LiveAutomation {
  loop: AutomationLoop;
  submitter: RunSubmitter;
  clock?: () => Date;
  log?: (line: string) => void;
  onSourceError?: (error: SourceError) => void;
}

/** How many skipped ticks of each sensor or schedule are kept. */
const KEEP_SKIPPED_TICKS = 500;

export class UnknownInstigatorError extends Error {
  override name = 'UnknownInstigatorError';
}

/**
 * Sensors and schedules: their definitions (from config), persisted on/off state, cursors and
 * ticks, and, inside the daemon, their loops. Switching one on or off is saved first, so the
 * state survives restarts and works the same with or without a daemon.
 */
export class AutomationService {
  private readonly sensorSpecs: SensorSpec[];
  private readonly schedules: ScheduleDefinition[];
  private readonly sensors = new Map<string, SourceSensor>();
  /** Releases what the sensors hold (S3 clients). */
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly tickListeners = new Set<(event: TickEvent) => void>();

  constructor(private readonly options: { config: Config; store: AutomationStore; live?: LiveAutomation }) {
    this.sensorSpecs = sensorSpecs(options.config);
    this.schedules = scheduleDefinitions(options.config);
  }

  kindOf(name: string): InstigatorKind | null {
    if (this.sensorSpecs.some((s) => s.name === name)) return 'sensor';
    if (this.schedules.some((s) => s.name === name)) return 'schedule';
    return null;
  }

  names(kind: InstigatorKind): string[] {
    return kind === 'sensor' ? this.sensorSpecs.map((s) => s.name) : this.schedules.map((s) => s.name);
  }

  async listSensors(): Promise<SensorView[]> {
    const [states, ticks] = await Promise.all([this.options.store.states(), this.options.store.lastTicks()]);
    return this.sensorSpecs.map((spec) => {
      const state = states.get(spec.name);
      return {
        name: spec.name,
        kind: spec.kind,
        description: spec.description,
        enabled: state?.enabled ?? false,
        interval_seconds: spec.intervalSeconds,
        cursor: state?.cursor ?? null,
        last_tick: ticks.get(spec.name) ?? null,
        next_tick_at: this.options.live?.loop.nextTickAt(spec.name)?.toISOString() ?? null,
      };
    });
  }

  async listSchedules(): Promise<ScheduleView[]> {
    const [states, ticks] = await Promise.all([this.options.store.states(), this.options.store.lastTicks()]);
    const now = this.now();
    return this.schedules.map((schedule) => {
      const state = states.get(schedule.name);
      const enabled = state?.enabled ?? false;
      const next = enabled ? nextEvaluation(schedule, state?.cursor ?? now.toISOString(), now) : null;
      return {
        name: schedule.name,
        kind: 'schedule',
        description: schedule.description,
        enabled,
        cron: schedule.cron.expression,
        timezone: schedule.cron.timezone,
        cursor: state?.cursor ?? null,
        last_tick: ticks.get(schedule.name) ?? null,
        next_tick_at: next?.toISOString() ?? null,
      };
    });
  }

  /** Hears every tick this process evaluates (loops and tickNow); returns the unsubscribe. */
  onTick(listener: (event: TickEvent) => void): () => void {
    this.tickListeners.add(listener);
    return () => this.tickListeners.delete(listener);
  }

  /** From the stored ticks, so it survives restarts and counts ticks made by any process. */
  async sensorFreshness(): Promise<SensorFreshness[]> {
    const [states, last] = await Promise.all([
      this.options.store.states(),
      this.options.store.lastSuccessfulTicks(),
    ]);
    return this.sensorSpecs.map((spec) => {
      const at = last.get(spec.name);
      return {
        name: spec.name,
        enabled: states.get(spec.name)?.enabled ?? false,
        lastSuccessAt: at ? new Date(at) : null,
      };
    });
  }

  async ticks(name: string, limit: number): Promise<Tick[]> {
    this.require(name);
    return this.options.store.ticks(name, limit);
  }

  /** Saves the new state, then starts or stops the loop when running inside the daemon. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const kind = this.require(name);
    // A schedule switched on starts from now: the stopped period is not a backlog of missed ticks.
    await this.options.store.setEnabled(name, kind, enabled, kind === 'schedule' && enabled);
    if (!this.options.live) return;
    if (enabled) this.startLoop(name);
    else await this.stopLoop(name);
  }

  /** Daemon start: makes sure every instigator has a row, optionally switches all on, starts the enabled ones. */
  async start(options: { enableAll: boolean }): Promise<void> {
    const { store } = this.options;
    for (const name of [...this.names('sensor'), ...this.names('schedule')]) {
      const kind = this.require(name);
      await store.ensure(name, kind, false);
      const state = await store.state(name);
      if (options.enableAll && !state?.enabled) await store.setEnabled(name, kind, true, kind === 'schedule');
    }
    const states = await store.states();
    for (const [name, state] of states) if (state.enabled && this.kindOf(name)) this.startLoop(name);
  }

  /** Evaluates one instigator now, outside its loop (tests, benchmarks, "tick now" buttons). */
  async tickNow(name: string, now = this.now()): Promise<TickReport | null> {
    const kind = this.require(name);
    const live = this.requireLive();
    const deps = { store: this.options.store, submitter: live.submitter };
    const report =
      kind === 'schedule'
        ? await runScheduleTick(deps, this.schedule(name), now)
        : await runSensorTick(deps, this.sensor(name), now);
    if (report) this.announce({ kind, name, report });
    return report;
  }

  async close(): Promise<void> {
    await this.options.live?.loop.stopAll();
    for (const close of this.closers.splice(0)) await close();
  }

  private startLoop(name: string): void {
    const live = this.requireLive();
    if (live.loop.isRunning(name)) return;
    live.loop.start(this.instigator(name));
  }

  private async stopLoop(name: string): Promise<void> {
    await this.options.live?.loop.stop(name);
  }

  private instigator(name: string): Instigator {
    const live = this.requireLive();
    const deps = { store: this.options.store, submitter: live.submitter };
    const kind = this.require(name);
    let ticks = 0;
    const prune = async () => {
      ticks += 1;
      if (ticks % 100 === 1) await this.options.store.pruneTicks(name, KEEP_SKIPPED_TICKS);
    };
    if (kind === 'schedule') {
      const schedule = this.schedule(name);
      return {
        name,
        nextAt: async (_last, now) =>
          nextEvaluation(schedule, (await this.options.store.state(name))?.cursor ?? null, now),
        tick: async (now) => {
          const report = await runScheduleTick(deps, schedule, now);
          if (report) this.announce({ kind, name, report });
          await prune();
        },
      };
    }
    const sensor = this.sensor(name);
    return {
      name,
      nextAt: async (last, now) => (last ? new Date(last.getTime() + sensor.intervalSeconds * 1000) : now),
      tick: async (now, signal) => {
        this.announce({ kind, name, report: await runSensorTick(deps, sensor, now, signal) });
        await prune();
      },
    };
  }

  private announce(event: TickEvent): void {
    for (const listener of this.tickListeners) {
      try {
        listener(event);
      } catch {
        // An observer's bug must not fail the tick it observes: the tick is already recorded.
      }
    }
  }

  private sensor(name: string): SourceSensor {
    const existing = this.sensors.get(name);
    if (existing) return existing;
    const spec = this.sensorSpecs.find((s) => s.name === name);
    if (!spec) throw new UnknownInstigatorError(`no sensor "${name}"`);
    const created = createSensor(this.options.config, spec, this.options.store, {
      log: this.options.live?.log,
      onSourceError: this.options.live?.onSourceError,
    });
    this.sensors.set(name, created.sensor);
    this.closers.push(created.close);
    return created.sensor;
  }

  private schedule(name: string): ScheduleDefinition {
    const schedule = this.schedules.find((s) => s.name === name);
    if (!schedule) throw new UnknownInstigatorError(`no schedule "${name}"`);
    return schedule;
  }

  private require(name: string): InstigatorKind {
    const kind = this.kindOf(name);
    if (!kind) {
      const known = [...this.names('sensor'), ...this.names('schedule')];
      throw new UnknownInstigatorError(
        `no sensor or schedule named "${name}"; known: ${known.join(', ') || '(none: set BILLING_SOURCE for a sensor)'}`,
      );
    }
    return kind;
  }

  private requireLive(): LiveAutomation {
    if (!this.options.live)
      throw new Error('sensors and schedules only tick inside the daemon (billing-pipeline dev|serve)');
    return this.options.live;
  }

  private now(): Date {
    return this.options.live?.clock?.() ?? new Date();
  }
}

/** A tick as one human line, e.g. `requested run r1`. */
export function describeTick(report: TickReport): string {
  switch (report.outcome) {
    case 'requested':
      return `requested run ${report.runIds.join(', ')}`;
    case 'skipped':
      return `skipped: ${report.skipReason ?? ''}`;
    case 'failed':
      return `failed: ${report.error ?? ''}`;
    default: {
      const unreachable: never = report.outcome;
      return String(unreachable);
    }
  }
}
