import type { AssetContext } from '../../orchestrator/asset.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import { CHANGE_LOG_LOCK, EVENTS_REWRITE_LOCK, NEXT_CHANGE_ID } from '../sql/events.js';
import { FX_SETTING } from './fx-file.js';
import * as sql from './fx-sql.js';

export interface Renormalization {
  /** Path-day partitions whose events got a new normalized amount, with how many. */
  partitions: { partition: string; events: number }[];
  events: number;
}

/**
 * Applies FX rate changes billing_events has not seen yet (its cursor is the last `fx_rate_history`
 * change applied): recomputes `normalized_credit_usage` where the valid rate changed and logs the
 * touched keys in `billing_event_changes`, so each aggregate rebuilds exactly the affected groups.
 */
export async function applyRateChanges(
  ctx: AssetContext,
  reportingCurrency: string,
  /** `FX_HEAD` read before this run's files were loaded (see COLLECT_RENORMALIZED). */
  fxHeadAtLoad: number | null,
): Promise<Renormalization> {
  const cursorText = await ctx.getCursor();
  const cursor = cursorText === null ? 0 : Number(cursorText);
  const [head] = await ctx.warehouse.all<{ latest: number | null }>(sql.FX_CHANGES_SINCE, [cursor]);
  const latest = head?.latest ?? null;
  if (latest === null) return { partitions: [], events: 0 };
  let partitions: Renormalization['partitions'] = [];
  const collect = sql.collectRenormalized(sqlDialect(ctx.warehouse.dialect));
  await ctx.warehouse.transaction(async (tx) => {
    // Exclusive, where file loads hold it shared: this rewrites rows of any file, so it waits for
    // the loads in flight and holds new ones off (no row-lock deadlock with a load).
    await tx.lock(EVENTS_REWRITE_LOCK);
    // A first load: every event came from this run's files, normalized with today's rates, so the
    // scan below would find nothing; on 20M rows it read every event only for that (issue 12).
    if (fxHeadAtLoad !== null && Number(latest) === Number(fxHeadAtLoad)) {
      const [other] = await tx.all<{ n: number | bigint }>(sql.FILES_LOADED_BY_OTHER_RUNS, [ctx.runId]);
      if (Number(other?.n ?? 1) === 0) {
        await ctx.setCursor(tx, String(latest));
        return;
      }
    }
    await tx.exec(collect[0] as string);
    await tx.exec(collect[1] as string, [cursor, latest, reportingCurrency, fxHeadAtLoad, ctx.runId]);
    partitions = await tx.all<{ partition: string; events: number }>(sql.RENORMALIZED_PARTITIONS);
    if (partitions.length > 0) {
      await tx.exec(sql.APPLY_RENORMALIZED);
      await tx.lock(CHANGE_LOG_LOCK, 'shared');
      const [change] = await tx.all<{ id: number }>(NEXT_CHANGE_ID);
      await tx.exec(sql.RECORD_RENORMALIZED_KEYS, [change?.id ?? 0]);
    }
    await tx.exec(sql.DROP_RENORMALIZED);
    await ctx.setCursor(tx, String(latest));
  });
  const events = partitions.reduce((n, p) => n + Number(p.events), 0);
  if (events > 0) {
    ctx.log(`re-normalized ${events} event(s) in ${partitions.length} partition(s) after FX rate changes`);
  }
  return { partitions, events };
}

/**
 * Without an FX source, the notice that some currencies have no rates (null when every event has a
 * normalized amount): printed by `materialize`, logged with the run, readable from the metadata.
 */
export async function missingRatesNotice(
  ctx: AssetContext,
  reportingCurrency: string,
): Promise<string | null> {
  const rows = await ctx.warehouse.all<{ currency: string; events: number }>(sql.UNNORMALIZED_CURRENCIES);
  if (rows.length === 0) return null;
  const events = rows.reduce((n, r) => n + Number(r.events), 0);
  const list = rows.map((r) => `${r.currency} ×${r.events}`).join(', ');
  return `${rows.length} currenc${rows.length === 1 ? 'y has' : 'ies have'} no FX rates to ${reportingCurrency} (${list}): their ${events} event(s) have no normalized amount, so normalized totals that include them are NULL; set ${FX_SETTING} to a rate file (date,currency,rate)`;
}
