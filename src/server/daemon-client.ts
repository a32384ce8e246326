import type { z } from '@hono/zod-openapi';
import { loadQualityConfig } from '../billing/checks/quality-config.js';
import { billingAssetGraph } from '../billing/pipeline.js';
import { describeDifferences, runSettingDifferences } from '../config/run-settings.js';
import { type Config, SettingError } from '../config.js';
import { Ledger } from '../orchestrator/ledger.js';
import type { RunEmitter } from '../orchestrator/run-events.js';
import type { AssetOutcome, RunRequest, RunSummary } from '../orchestrator/run-executor.js';
import { isTerminal, type RunStatus } from '../orchestrator/run-status.js';
import { type Runtime, recordedConfig } from '../runtime.js';
import type { Source } from '../sources/source.js';
import type { QueryResult, Row, SqlSession, SqlValue, Warehouse } from '../warehouse/warehouse.js';
import type { DaemonInfo } from './daemon-file.js';
import type {
  ApiBackfillDetail,
  ApiRun,
  ApiRunDetail,
  ScheduleSchema,
  SensorSchema,
  SqlResultSchema,
  TickSchema,
} from './run-schemas.js';

/** An error answer from the daemon, with its API error code. */
export class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type SqlResult = z.infer<typeof SqlResultSchema>;
export type ApiSensor = z.infer<typeof SensorSchema>;
export type ApiSchedule = z.infer<typeof ScheduleSchema>;
export type ApiTick = z.infer<typeof TickSchema>;

/** Poll delays: quick at first (most runs are short), backing off for long ones. */
const POLL_MS = [25, 50, 100, 200, 400, 750];

/** The CLI's side of the daemon's HTTP API. */
export class DaemonClient {
  constructor(readonly info: DaemonInfo) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.info.token) headers.authorization = `Bearer ${this.info.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.info.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new DaemonError(
        0,
        'unreachable',
        `the daemon at ${this.info.url} did not answer: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new DaemonError(
        response.status,
        error?.code ?? 'http_error',
        error?.message ?? `HTTP ${response.status}`,
      );
    }
    return parsed as T;
  }

  sql(sql: string, options: { limit?: number; params?: readonly SqlValue[] } = {}): Promise<SqlResult> {
    return this.request('POST', '/api/sql', { sql, limit: options.limit, params: options.params });
  }

  submitRun(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }> {
    return this.request('POST', '/api/runs', {
      selection: request.selection && request.selection.length > 0 ? request.selection : undefined,
      withUpstream: request.withUpstream || undefined,
      from: request.range?.from,
      to: request.range?.to,
      fullRefresh: request.fullRefresh || undefined,
      runKey: request.runKey ?? undefined,
      trigger: 'cli',
    });
  }

  runs(limit: number): Promise<{ runs: ApiRun[]; next: string | null }> {
    return this.request('GET', `/api/runs?limit=${limit}`);
  }

  run(runId: string): Promise<ApiRunDetail> {
    return this.request('GET', `/api/runs/${encodeURIComponent(runId)}`);
  }

  cancelRun(runId: string): Promise<{ canceled: boolean }> {
    return this.request('POST', `/api/runs/${encodeURIComponent(runId)}/cancel`);
  }

  createBackfill(body: {
    from: string;
    to: string;
    selection?: readonly string[];
  }): Promise<{ backfillId: string }> {
    return this.request('POST', '/api/backfills', body);
  }

  backfill(backfillId: string): Promise<ApiBackfillDetail> {
    return this.request('GET', `/api/backfills/${encodeURIComponent(backfillId)}`);
  }

  cancelBackfill(backfillId: string): Promise<{ canceled: boolean; runs_canceled: number }> {
    return this.request('POST', `/api/backfills/${encodeURIComponent(backfillId)}/cancel`);
  }

  async instigators(kind: 'sensors' | 'schedules'): Promise<(ApiSensor | ApiSchedule)[]> {
    const body = await this.request<{ sensors?: ApiSensor[]; schedules?: ApiSchedule[] }>(
      'GET',
      `/api/${kind}`,
    );
    return body.sensors ?? body.schedules ?? [];
  }

  async ticks(kind: 'sensors' | 'schedules', name: string, limit: number): Promise<ApiTick[]> {
    const path = `/api/${kind}/${encodeURIComponent(name)}/ticks?limit=${limit}`;
    return (await this.request<{ ticks: ApiTick[] }>('GET', path)).ticks;
  }

  setEnabled(kind: 'sensors' | 'schedules', name: string, enabled: boolean): Promise<{ enabled: boolean }> {
    return this.request('POST', `/api/${kind}/${encodeURIComponent(name)}/${enabled ? 'start' : 'stop'}`);
  }

  /**
   * Polls a run until it ends. `onDetail` sees every poll (progress reporting); `signal` asks the
   * daemon to cancel the run, and polling goes on until the run has really stopped.
   */
  async waitForRun(
    runId: string,
    options: { onDetail?: (detail: ApiRunDetail) => void; signal?: AbortSignal } = {},
  ): Promise<ApiRunDetail> {
    let cancelRequested = false;
    for (let poll = 0; ; poll++) {
      if (options.signal?.aborted && !cancelRequested) {
        cancelRequested = true;
        await this.cancelRun(runId);
      }
      const detail = await this.run(runId);
      options.onDetail?.(detail);
      if (isTerminal(detail.run.status)) return detail;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS[Math.min(poll, POLL_MS.length - 1)]));
    }
  }
}

/** A read-only Warehouse over the daemon's SQL endpoint, for commands that only read. */
class RemoteWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  constructor(
    private readonly client: DaemonClient,
    readonly location: string,
  ) {}

  async query(sql: string, params: readonly SqlValue[] = []): Promise<QueryResult> {
    const result = await this.client.sql(sql, {
      limit: 10_000,
      params: params.length > 0 ? params : undefined,
    });
    if (result.truncated) {
      throw new DaemonError(
        413,
        'too_many_rows',
        'the result has more than 10,000 rows, the most the daemon returns',
      );
    }
    return { columns: result.columns, rows: result.rows as Row[] };
  }

  async all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  exec(): Promise<void> {
    return this.readOnly();
  }

  stageCsv(): Promise<void> {
    return this.readOnly();
  }

  transaction<T>(_fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.readOnly();
  }

  lock(): Promise<void> {
    return this.readOnly();
  }

  exclusive<T>(): Promise<T> {
    return this.readOnly();
  }

  async close(): Promise<void> {}

  private readOnly(): Promise<never> {
    return Promise.reject(
      new DaemonError(
        409,
        'daemon_owns_warehouse',
        'the daemon owns the warehouse: this command cannot write to it while the daemon runs',
      ),
    );
  }
}

const noSource: Source = {
  uri: '(daemon)',
  list: () => {
    throw new Error('the daemon reads the source');
  },
  open: () => Promise.reject(new Error('the daemon reads the source')),
  put: () => Promise.reject(new Error('the daemon reads the source')),
  putFile: () => Promise.reject(new Error('the daemon reads the source')),
  close: async () => {},
};

function toOutcome(asset: ApiRunDetail['assets'][number]): AssetOutcome {
  return {
    asset: asset.asset,
    status: asset.status as AssetOutcome['status'],
    durationMs: asset.duration_ms ?? 0,
    result: { changed: asset.changed, partitions: [], metadata: (asset.metadata ?? {}) as never },
    error: asset.error,
  };
}

/**
 * Before a run goes to the daemon: the daemon runs it under its own configuration, so a setting
 * this command sets to something else would be silently ignored. Refuses (exit 2) naming each.
 */
export async function checkHandoff(
  client: DaemonClient,
  config: Config,
  notice: (line: string) => void,
  what = 'the run',
): Promise<void> {
  const { info } = client;
  if (info.config) {
    const quality = await loadQualityConfig({
      file: config.checksConfig,
      inline: config.checksInline,
      origin: config.settings.get('checks')?.origin,
      env: config.env,
    });
    const differences = runSettingDifferences(config, recordedConfig(config, quality), info.config);
    if (differences.length > 0) {
      throw new SettingError(
        [
          `the daemon at ${info.url} (pid ${info.pid}) owns this warehouse and would run this under its own settings, which differ from this command's:`,
          describeDifferences(differences),
          `Either stop the daemon (kill ${info.pid}) and run the command again, or restart the daemon with these settings, or drop the differing settings from this command (${differences.map((d) => d.origin).join(', ')}).`,
        ].join('\n'),
      );
    }
  }
  notice(`handing ${what} to the daemon at ${info.url}, pid ${info.pid}`);
}

/** Queues the run in the daemon and follows it, reporting progress like an in-process run. */
async function remoteMaterialize(
  client: DaemonClient,
  request: RunRequest,
  options: { emitter?: RunEmitter; signal?: AbortSignal },
): Promise<RunSummary> {
  const { runId, deduplicated } = await client.submitRun(request);
  if (deduplicated) {
    const detail = await client.run(runId);
    return {
      runId,
      status: detail.run.status as RunStatus,
      error: null,
      assets: [],
      deduplicatedBy: request.runKey ?? '',
    };
  }
  let started = false;
  const reported = new Set<string>();
  const detail = await client.waitForRun(runId, {
    signal: options.signal,
    onDetail: (d) => {
      if (!started && d.run.status !== 'queued') {
        started = true;
        options.emitter?.emit('run:started', { runId, assets: d.run.selection });
      }
      for (const asset of d.assets) {
        if (reported.has(asset.asset)) continue;
        reported.add(asset.asset);
        const outcome = toOutcome(asset);
        options.emitter?.emit('asset:finished', { runId, ...outcome });
      }
    },
  });
  const status = detail.run.status as RunStatus;
  return { runId, status, error: detail.run.error, assets: detail.assets.map(toOutcome) };
}

/**
 * A Runtime whose work happens in the daemon: runs are queued there and followed, reads go
 * through its SQL endpoint. Commands written against Runtime work unchanged while a daemon runs.
 */
export function remoteRuntime(
  client: DaemonClient,
  config: Config,
  notice: (line: string) => void = () => {},
): Runtime {
  const warehouse = new RemoteWarehouse(client, config.warehousePath);
  return {
    config,
    runConfig: client.info.config ?? {},
    warehouse,
    ledger: new Ledger(warehouse),
    graph: billingAssetGraph({ source: noSource, home: config.home }),
    orphanedRuns: 0,
    materialize: async (request, options = {}) => {
      await checkHandoff(client, config, notice);
      return remoteMaterialize(client, request, options);
    },
    scaleOut: null,
    runGraphs: null,
    close: async () => {},
  };
}
