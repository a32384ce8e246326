import { EventEmitter } from 'node:events';
import type { AssetResult, ProgressUpdate } from './asset.js';
import type { AssetRunStatus, RunStatus } from './run-status.js';

/** Everything a run announces while it goes, for progress bars and (later) live UIs. */
export interface RunEventMap {
  'run:started': { runId: string; assets: string[] };
  'asset:started': { runId: string; asset: string };
  'asset:progress': { runId: string; asset: string; update: ProgressUpdate };
  'asset:log': { runId: string; asset: string; message: string };
  'asset:finished': {
    runId: string;
    asset: string;
    status: AssetRunStatus;
    durationMs: number;
    result: AssetResult | null;
    error: string | null;
  };
  'run:finished': { runId: string; status: RunStatus; error: string | null };
}

/** A typed wrapper so listeners and emitters agree on payloads at compile time. */
export class RunEmitter {
  private readonly emitter = new EventEmitter();

  on<K extends keyof RunEventMap>(event: K, listener: (payload: RunEventMap[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<K extends keyof RunEventMap>(event: K, listener: (payload: RunEventMap[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  emit<K extends keyof RunEventMap>(event: K, payload: RunEventMap[K]): void {
    this.emitter.emit(event, payload);
  }
}
