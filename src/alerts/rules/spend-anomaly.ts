import * as sql from '../alert-sql.js';
import type { AlertCondition } from '../alert-types.js';
import { formatAmount, money } from '../money-text.js';
import type { RuleContext, RuleDefinition } from './rule.js';

/** Anomalies on the latest this many data days alert; older ones are history (see the query). */
export const ANOMALY_RECENT_DAYS = 7;

interface AnomalyRow {
  entity_type: string;
  entity: string;
  day: string;
  spend: string;
  baseline: string | null;
  robust_z: string | null;
  direction: string;
  deviation: string;
  history_days: number | string;
}

async function reportingCurrency(ctx: RuleContext): Promise<string> {
  if (ctx.reportingCurrency) return ctx.reportingCurrency;
  if (ctx.tables.has('billing_insights')) {
    const [row] = await ctx.session.all<{ reporting_currency: string | null }>(sql.INSIGHTS_CURRENCY);
    if (row?.reporting_currency) return row.reporting_currency;
  }
  return 'USD';
}

export const spendAnomalyRule: RuleDefinition = {
  rule: 'spend_anomaly',
  description: `A user's or region's daily spend is anomalous (insights_spend_anomalies, latest ${ANOMALY_RECENT_DAYS} data days)`,
  tables: ['insights_spend_anomalies', 'daily_aggregates'],
  async conditions(ctx) {
    const rows = await ctx.session.all<AnomalyRow>(sql.RECENT_SPEND_ANOMALIES, [ANOMALY_RECENT_DAYS]);
    if (rows.length === 0) return [];
    const currency = await reportingCurrency(ctx);
    return rows.map(
      (r): AlertCondition => ({
        rule: 'spend_anomaly',
        scope: `${r.entity_type}:${r.entity}`,
        period: r.day,
        threshold: null,
        severity: 'warning',
        summary: `Spend ${r.direction} for ${r.entity_type} ${r.entity} on ${r.day}: ${money(r.spend, currency)} against a median of ${money(r.baseline, currency)} (${r.deviation.startsWith('-') ? '' : '+'}${formatAmount(r.deviation)} ${currency}, robust z ${r.robust_z ?? 'n/a'})`,
        details: {
          entity_type: r.entity_type,
          entity: r.entity,
          day: r.day,
          currency,
          spend: r.spend,
          baseline_median: r.baseline,
          deviation: r.deviation,
          robust_z: r.robust_z,
          direction: r.direction,
          history_days: Number(r.history_days),
        },
      }),
    );
  },
};
