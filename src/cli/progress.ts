import { SingleBar } from 'cli-progress';
import { RunEmitter } from '../orchestrator/run-events.js';
import { escapeControlChars } from './format.js';

const mb = (bytes: number) => (bytes / 1_048_576).toFixed(1);

/**
 * Reports a run on stderr: a progress bar per asset on a terminal, one plain line per asset
 * otherwise (CI logs, pipes).
 */
export function runReporter(stream: NodeJS.WriteStream = process.stderr): RunEmitter {
  const emitter = new RunEmitter();
  const tty = Boolean(stream.isTTY);
  let bar: SingleBar | null = null;
  // The name column fits the run's longest asset name ("user_daily_aggregates" is 21 characters).
  let nameWidth = 20;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  emitter.on('run:started', ({ runId, assets }) => {
    nameWidth = Math.max(nameWidth, ...assets.map((a) => a.length));
    stream.write(`run ${runId}: ${assets.join(', ')}\n`);
  });
  emitter.on('asset:progress', ({ asset, update }) => {
    if (!tty) return;
    if (!bar) {
      bar = new SingleBar({
        format: `  ${asset.padEnd(nameWidth)} [{bar}] {percentage}% {done}/{all} MB`,
        stream,
        hideCursor: true,
        clearOnComplete: true,
      });
      bar.start(update.total, 0, { done: mb(0), all: mb(update.total) });
    }
    bar.update(update.done, { done: mb(update.done), all: mb(update.total) });
  });
  emitter.on('asset:finished', ({ asset, status, durationMs, result, error }) => {
    stopBar();
    const meta = result?.metadata ?? {};
    const facts = Object.entries(meta)
      .filter(([k, v]) => typeof v === 'number' && !k.endsWith('Ms') && v !== 0)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const what = status === 'success' ? (result?.changed ? 'materialized' : 'up to date') : status;
    stream.write(
      `  ${asset.padEnd(nameWidth)} ${what.padEnd(12)} ${String(durationMs).padStart(6)} ms  ${error ? escapeControlChars(error) : facts}\n`,
    );
  });
  return emitter;
}
