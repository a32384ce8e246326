import type { RunRequest } from '../orchestrator/run-executor.js';
import type { Runtime } from '../runtime.js';
import type { SqlService } from './sql-service.js';

/**
 * How the API launches and stops runs. The daemon's persistent run queue implements it; tests may
 * use a direct in-process implementation.
 */
export interface RunLauncher {
  /** Queues a run; resolves once it is recorded (status `queued`), not when it finishes. */
  submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }>;
  /** Asks a queued or running run to stop at its next safe point; false if it was not active. */
  cancel(runId: string): Promise<boolean>;
}

/** Everything the HTTP app needs, passed explicitly (no singletons). */
export interface AppDeps {
  runtime: Runtime;
  launcher: RunLauncher;
  /** When set, /api and /metrics requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Folder of the built web UI (web/dist); omitted in API-only tests. */
  webRoot?: string;
  /** What the daemon adds to /readyz and serves at /metrics; without it /metrics is 404. */
  observability?: Observability;
  /** The SQL endpoint's bounded queries; built from the config when omitted. The daemon passes its own to interrupt them at shutdown. */
  sql?: SqlService;
}

export interface Observability {
  /** Why this process cannot take work now (e.g. shutting down), or null. */
  notReady(): string | null;
  metrics: { readonly contentType: string; render(): Promise<string> };
}
