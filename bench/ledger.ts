import { DuckDBInstance } from '@duckdb/node-api';
import { AGGREGATES } from '../src/billing/aggregates/index.js';

/** One asset's row of the ledger (`asset_runs`) for one run. */
export interface AssetTiming {
  asset: string;
  durationMs: number;
  /** started_at as epoch milliseconds (the ledger's timestamps are naive UTC). */
  startedAtMs: number;
  changed: boolean;
  metadata: Record<string, unknown>;
}

/** Where a `materialize` child's wall time went, from its own ledger. All in milliseconds. */
export interface PhaseSplit {
  wallMs: number;
  /** billing_files: listing the source. */
  listMs: number;
  /** billing_files minus the listing: diffing the inventory in DuckDB. */
  inventoryMs: number;
  /** billing_events as a whole (its download, parse and insert overlap: two files are parsed at once). */
  eventsMs: number;
  /** Sum over files of download+parse+validate time (summed across concurrent workers). */
  parseMs: number;
  /** Sum over files of the per-file insert transaction (serialized by the write lock). */
  insertMs: number;
  /** Every aggregate asset (their number grows as the pipeline does). */
  aggregatesMs: number;
  insightsMs: number;
  /** Wall minus all assets: node start, module load, DuckDB open + schema setup, ledger writes, final CHECKPOINT. */
  otherMs: number;
  rows: number;
  bytes: number;
  /** billing_insights' normalized total (`spend.amount`): null when unknown or not recorded. */
  spend: string | null;
  assets: AssetTiming[];
}

const AGGREGATE_ASSETS = new Set(AGGREGATES.map((a) => a.name));
/** For labels: "5 aggregates". */
export const AGGREGATE_COUNT = AGGREGATES.length;

/**
 * Reads a finished run's asset rows straight from the warehouse file (the child has exited and released
 * its lock). Cheaper than `billing-pipeline runs show`, which would pay another node start per sample.
 */
export async function readRun(warehouse: string, runId: string): Promise<AssetTiming[]> {
  const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        'SELECT asset, CAST(duration_ms AS DOUBLE) AS d, CAST(epoch_ms(started_at) AS DOUBLE) AS s, changed, metadata FROM asset_runs WHERE run_id = $1 ORDER BY started_at',
        [runId],
      );
      return reader.getRowObjectsJS().map((row) => ({
        asset: String(row.asset),
        durationMs: Number(row.d ?? 0),
        startedAtMs: Number(row.s ?? 0),
        changed: Boolean(row.changed),
        metadata: row.metadata ? (JSON.parse(String(row.metadata)) as Record<string, unknown>) : {},
      }));
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

export function splitPhases(wallMs: number, assets: readonly AssetTiming[]): PhaseSplit {
  const by = (name: string) => assets.find((a) => a.asset === name);
  const num = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
  const files = by('billing_files');
  const events = by('billing_events');
  const listMs = num(files?.metadata.listMs);
  const total = assets.reduce((n, a) => n + a.durationMs, 0);
  const insights = by('billing_insights');
  return {
    wallMs,
    listMs,
    inventoryMs: Math.max(0, (files?.durationMs ?? 0) - listMs),
    eventsMs: events?.durationMs ?? 0,
    parseMs: num(events?.metadata.parseMs),
    insertMs: num(events?.metadata.insertMs),
    aggregatesMs: assets.filter((a) => AGGREGATE_ASSETS.has(a.asset)).reduce((n, a) => n + a.durationMs, 0),
    insightsMs: insights?.durationMs ?? 0,
    otherMs: Math.max(0, wallMs - total),
    rows: num(events?.metadata.rows),
    bytes: num(events?.metadata.bytes),
    spend: spendAmount(insights?.metadata.spend),
    assets: [...assets],
  };
}

/** The amount of billing_insights' `spend` ({amount, currency}, the reporting currency). */
function spendAmount(spend: unknown): string | null {
  if (!spend || typeof spend !== 'object') return null;
  const { amount } = spend as { amount?: unknown };
  return typeof amount === 'string' ? amount : null;
}
