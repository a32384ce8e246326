import type { AssetDefinition } from '../../orchestrator/asset.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { SETUP_LOCK } from '../sql/tables.js';
import { FX_SETTING, type FxRate, parseFxRates, readFxSource } from './fx-file.js';
import * as sql from './fx-sql.js';

export interface FxOptions {
  /** BILLING_FX_SOURCE: `s3://bucket/key.csv` or a local path; null: only the reporting currency normalizes. */
  source: string | null;
  /** BILLING_REPORTING_CURRENCY. */
  reportingCurrency: string;
  /** For S3 credentials and endpoint. */
  env: NodeJS.ProcessEnv;
}

interface FxState {
  reporting_currency: string;
  source: string | null;
  source_version: string | null;
  rate_count: number;
}

async function insertRates(tx: SqlSession, rates: readonly FxRate[]): Promise<void> {
  if (rates.length === 0) return;
  const join = (pick: (r: FxRate) => string) => rates.map(pick).join(',');
  await tx.exec(sql.INSERT_NEW_RATES, [join((r) => r.date), join((r) => r.currency), join((r) => r.rate)]);
}

/**
 * `fx_rates`: the FX rate history from `BILLING_FX_SOURCE`. The file is the whole truth: each new
 * version replaces the table, and every rate added, changed or removed lands in `fx_rate_history`,
 * which billing_events follows to re-normalize exactly the events whose rate changed. Without a
 * configured file the stored rates stay as they are (a shell without the variable must not wipe
 * them), unless the reporting currency changed, which makes them meaningless.
 */
export function fxRatesAsset(options: FxOptions): AssetDefinition {
  return {
    name: 'fx_rates',
    description: `FX rates to ${options.reportingCurrency} by date and currency, with change history (fx_rate_history)`,
    deps: [],
    partitioning: 'none',
    group: 'ingest',
    async setup(warehouse) {
      await warehouse.transaction(async (tx) => {
        await tx.lock(SETUP_LOCK);
        for (const statement of sql.fxTables(sqlDialect(warehouse.dialect))) await tx.exec(statement);
      });
    },
    async materialize(ctx) {
      const [state] = await ctx.warehouse.all<FxState>(sql.FX_STATE);
      let rates: FxRate[] = [];
      let version: string | null = null;
      if (options.source) {
        const file = await readFxSource(options.source, options.env, ctx.signal);
        version = file.version;
        if (
          state?.source === options.source &&
          state.source_version === version &&
          state.reporting_currency === options.reportingCurrency
        ) {
          return { changed: false, partitions: [], metadata: { rates: state.rate_count, changes: 0 } };
        }
        rates = parseFxRates(file.text, {
          reportingCurrency: options.reportingCurrency,
          origin: options.source,
        });
      } else if (state && state.reporting_currency === options.reportingCurrency) {
        // Nothing configured is not "no rates": the stored ones stay, with the amounts made from them.
        const kept = Number(state.rate_count);
        ctx.log(
          kept > 0
            ? `no FX source is configured (${FX_SETTING}): keeping the ${kept} stored rate(s) from ${state.source ?? 'an earlier file'}`
            : `no FX source is configured (${FX_SETTING}): only ${options.reportingCurrency} amounts can be normalized`,
        );
        return { changed: false, partitions: [], metadata: { rates: kept, changes: 0 } };
      } else if (state) {
        // Rates to another reporting currency cannot be used; their removal is kept in fx_rate_history.
        ctx.log(
          `no FX source is configured (${FX_SETTING}) and the reporting currency changed from ${state.reporting_currency} to ${options.reportingCurrency}: the stored rates no longer apply`,
        );
      } else {
        ctx.log(
          `no FX source is configured (${FX_SETTING}): only ${options.reportingCurrency} amounts can be normalized`,
        );
      }

      let changes = 0;
      await ctx.warehouse.transaction(async (tx) => {
        // Before the change id: FX changes commit in id order (see FX_LOCK).
        await tx.lock(sql.FX_LOCK);
        // Again under the lock: another run may have replaced the rates since the look above.
        const [current] = await tx.all<FxState>(sql.FX_STATE);
        for (const statement of sql.CREATE_NEW_RATES) await tx.exec(statement);
        await insertRates(tx, rates);
        const [next] = await tx.all<{ id: number }>(sql.NEXT_FX_CHANGE_ID);
        const changeId = next?.id ?? 0;
        await tx.exec(sql.RECORD_RATE_CHANGES, [changeId, ctx.runId]);
        if (!current || current.reporting_currency !== options.reportingCurrency) {
          const note = current
            ? `reporting currency changed from ${current.reporting_currency} to ${options.reportingCurrency}`
            : `first load: normalize every event to ${options.reportingCurrency}`;
          await tx.exec(sql.RECORD_FULL_RENORMALIZATION, [changeId, ctx.runId, note]);
        }
        for (const statement of sql.REPLACE_RATES) {
          await tx.exec(statement, statement.includes('$1') ? [version ?? '(none)', ctx.runId] : []);
        }
        await tx.exec(sql.REPLACE_STATE[0] as string);
        await tx.exec(sql.REPLACE_STATE[1] as string, [
          options.reportingCurrency,
          options.source,
          version,
          rates.length,
        ]);
        const [count] = await tx.all<{ n: number }>(sql.COUNT_CHANGES, [changeId]);
        changes = count?.n ?? 0;
      });
      const [summary] = await ctx.warehouse.all<{
        currencies: number;
        first_date: string | null;
        last_date: string | null;
      }>(sql.RATE_SUMMARY);
      const metadata = {
        rates: rates.length,
        changes,
        currencies: summary?.currencies ?? 0,
        firstDate: summary?.first_date ?? null,
        lastDate: summary?.last_date ?? null,
      };
      ctx.log(
        `loaded ${rates.length} FX rate(s) from ${options.source ?? '(none)'}: ${changes} change(s)`,
        metadata,
      );
      return {
        changed: changes > 0,
        partitions: [
          {
            partition: null,
            rowCount: rates.length,
            inputs: options.source ? [`${options.source}@${version}`] : [],
            metadata,
          },
        ],
        metadata,
      };
    },
  };
}
