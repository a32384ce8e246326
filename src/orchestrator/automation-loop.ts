import { abortableSleep } from '../sources/retrying-source.js';

/** A sensor or schedule as the loop drives it. */
export interface Instigator {
  name: string;
  /** When to evaluate next; `lastStartedAt` is null before the first tick of this process. */
  nextAt(lastStartedAt: Date | null, now: Date): Promise<Date | null>;
  tick(now: Date, signal: AbortSignal): Promise<void>;
}

export interface AutomationLoopOptions {
  clock?: () => Date;
  log?: (line: string) => void;
  /**
   * Longest single sleep: a schedule's next tick may be a day away, and waking up now and then
   * re-reads the clock (suspend, NTP jumps) instead of trusting one long timer.
   */
  maxSleepMs?: number;
  /**
   * Asked before each tick: false skips it (another process evaluates instigators, e.g. the
   * leader among several scale-out servers). Asked again a second later while the tick is due.
   */
  gate?: () => Promise<boolean>;
}

interface Loop {
  controller: AbortController;
  done: Promise<void>;
  nextAt: Date | null;
}

/**
 * Runs each started instigator in its own async loop: evaluate, sleep until the next evaluation,
 * repeat. Ticks of one instigator never overlap; a tick slower than the interval delays the next.
 */
export class AutomationLoop {
  private readonly loops = new Map<string, Loop>();
  private readonly clock: () => Date;
  private readonly maxSleepMs: number;

  constructor(private readonly options: AutomationLoopOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.maxSleepMs = options.maxSleepMs ?? 60_000;
  }

  isRunning(name: string): boolean {
    return this.loops.has(name);
  }

  nextTickAt(name: string): Date | null {
    return this.loops.get(name)?.nextAt ?? null;
  }

  start(instigator: Instigator): void {
    if (this.loops.has(instigator.name)) return;
    const controller = new AbortController();
    const loop: Loop = { controller, done: Promise.resolve(), nextAt: null };
    this.loops.set(instigator.name, loop);
    loop.done = this.run(instigator, loop).catch((error: unknown) => {
      if (!controller.signal.aborted) {
        this.options.log?.(`${instigator.name} stopped: ${error instanceof Error ? error.message : error}`);
      }
    });
  }

  /** Stops one loop; an evaluation in flight is aborted and not recorded. */
  async stop(name: string): Promise<void> {
    const loop = this.loops.get(name);
    if (!loop) return;
    this.loops.delete(name);
    loop.controller.abort(new Error('stopped'));
    await loop.done;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.loops.keys()].map((name) => this.stop(name)));
  }

  private async run(instigator: Instigator, loop: Loop): Promise<void> {
    const { signal } = loop.controller;
    let lastStartedAt: Date | null = null;
    while (!signal.aborted) {
      const now = this.clock();
      const at = await instigator.nextAt(lastStartedAt, now);
      loop.nextAt = at;
      const wait = at === null ? this.maxSleepMs : at.getTime() - now.getTime();
      if (wait > 0) {
        await abortableSleep(Math.min(wait, this.maxSleepMs), signal);
        continue;
      }
      if (this.options.gate && !(await this.options.gate().catch(() => false))) {
        lastStartedAt = this.clock();
        await abortableSleep(1000, signal);
        continue;
      }
      lastStartedAt = this.clock();
      try {
        await instigator.tick(lastStartedAt, signal);
      } catch (error) {
        if (signal.aborted) return;
        // A tick records its own failures; this is the store itself failing. Keep the loop alive.
        this.options.log?.(
          `${instigator.name} tick failed: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }
}
