import type {
  AssetCheckContext,
  AssetCheckDefinition,
  CheckOutcome,
} from '../../orchestrator/asset-check.js';
import { FX_SETTING } from '../fx/fx-file.js';
import * as sql from './check-sql.js';
import type { EventCheckOptions, Profile } from './event-checks.js';

interface Detail {
  partition: string;
  currency: string;
  events: number;
  first_day: string;
  last_day: string;
  too_large: number;
}

interface DayCount {
  currency: string;
  day: string;
  events: number;
}

const nextDay = (day: string): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** `2025-04-19 ×1, 2025-04-22..2025-04-24 ×6`: runs of consecutive days, each with its count. */
export function describeDays(days: readonly { day: string; events: number }[]): string {
  const runs: { from: string; to: string; events: number }[] = [];
  for (const d of days) {
    const last = runs[runs.length - 1];
    if (last && nextDay(last.to) === d.day) {
      last.to = d.day;
      last.events += Number(d.events);
    } else {
      runs.push({ from: d.day, to: d.day, events: Number(d.events) });
    }
  }
  return runs.map((r) => `${r.from === r.to ? r.from : `${r.from}..${r.to}`} ×${r.events}`).join(', ');
}

/**
 * `fx_rate_available`: every event has an amount in the reporting currency. A failure does not
 * withhold the partition: the aggregates show the affected normalized totals as NULL (completeSum)
 * and everything else (counts, per-currency totals, days with every rate) stays visible. With no
 * FX source configured it is a notice (`warn`): the user never asked for rates, so nothing failed.
 */
export function fxRateCheck(
  options: EventCheckOptions,
  profile: Profile,
  partitionsOf: (ctx: AssetCheckContext) => string[],
): AssetCheckDefinition {
  const configured = options.fxSource !== null;
  const currency = options.reportingCurrency;
  const hint = configured
    ? `add those rates to the FX file ${options.fxSource} (date,currency,rate)`
    : `no FX source is configured: set ${FX_SETTING} to a rate file (date,currency,rate)`;
  // The per-partition details of the evaluation, for its summary.
  let details: { runId: string; byPartition: Map<string, Detail[]> } = { runId: '', byPartition: new Map() };

  const judge = (partition: string, missing: number, detail: readonly Detail[]): CheckOutcome => {
    if (missing === 0) return { partition, passed: true, observed: 0, threshold: 0 };
    const parts = detail.map((d) => {
      const span = d.first_day === d.last_day ? d.first_day : `${d.first_day}..${d.last_day}`;
      const why =
        Number(d.too_large) > 0
          ? 'amount too large for DECIMAL(18,6) after conversion'
          : 'no rate on or before';
      return `${d.currency} ×${d.events} (${span}: ${why})`;
    });
    const needsRates = detail.some((d) => Number(d.too_large) === 0);
    return {
      partition,
      passed: false,
      observed: missing,
      threshold: 0,
      message: `${missing} event(s) cannot be normalized to ${currency}: ${parts.join(', ')}${needsRates ? `; ${hint}` : ''}`,
    };
  };

  /** Every failing partition's detail in one query (a failing partition is re-checked every run). */
  const detailsOf = async (ctx: AssetCheckContext, failing: readonly string[]) => {
    const byPartition = new Map<string, Detail[]>();
    if (failing.length === 0) return byPartition;
    const rows = await ctx.warehouse.all<Detail>(sql.UNNORMALIZED_DETAIL, [failing.join(','), currency]);
    for (const row of rows) byPartition.set(row.partition, [...(byPartition.get(row.partition) ?? []), row]);
    return byPartition;
  };

  return {
    name: 'fx_rate_available',
    description: configured
      ? `Every event has a ${currency} amount (an FX rate on or before its day)`
      : `Notes events without a ${currency} amount (no FX source is configured)`,
    severity: configured ? options.settings.fx_rate_available.severity : 'warn',
    withholds: false,
    async evaluate(ctx) {
      const partitions = partitionsOf(ctx);
      if (partitions.length === 0) return [];
      const rows = await profile(ctx, partitions);
      const missing = (p: string) => Number(rows.get(p)?.unnormalized ?? 0);
      const failing = partitions.filter((p) => missing(p) > 0);
      const byPartition = await detailsOf(ctx, failing);
      if (details.runId !== ctx.runId) details = { runId: ctx.runId, byPartition: new Map() };
      for (const p of failing) details.byPartition.set(p, byPartition.get(p) ?? []);
      return partitions.map((p) => judge(p, missing(p), byPartition.get(p) ?? []));
    },
    async summarize(ctx, failed) {
      const partitions = failed.map((o) => o.partition).filter((p): p is string => p !== null);
      const days = await ctx.warehouse.all<DayCount>(sql.UNNORMALIZED_BY_DAY, [partitions.join(',')]);
      const byCurrency = new Map<string, DayCount[]>();
      for (const d of days) byCurrency.set(d.currency, [...(byCurrency.get(d.currency) ?? []), d]);
      const total = days.reduce((n, d) => n + Number(d.events), 0);
      const list = [...byCurrency].map(([code, list]) => `${code} on ${describeDays(list)}`).join('; ');
      const stored = details.runId === ctx.runId ? [...details.byPartition.values()].flat() : [];
      const needsRates = stored.length === 0 || stored.some((d) => Number(d.too_large) < Number(d.events));
      const codes = [...byCurrency.keys()];
      const lead = configured
        ? `${total} event(s) cannot be normalized to ${currency}`
        : `${codes.length} currenc${codes.length === 1 ? 'y has' : 'ies have'} no FX rates to ${currency} (${codes.join(', ')}); ${total} event(s) keep a NULL normalized amount`;
      return `${lead}: ${list}${needsRates ? `; ${hint}` : ''}`;
    },
  };
}
