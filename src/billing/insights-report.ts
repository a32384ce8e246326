import { cellText, toTable } from '../cli/format.js';
import type { Row, Warehouse } from '../warehouse/warehouse.js';

const pct = (ratio: unknown) =>
  ratio === null || ratio === undefined ? '-' : `${(Number(ratio) * 100).toFixed(2)}%`;
/** Money is shown with 2 decimals for reading; the tables keep all 6. Rounding is on the string, not a float. */
export function money(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const text = String(value);
  const negative = text.startsWith('-');
  const [int = '0', frac = ''] = text.replace('-', '').split('.');
  let cents = BigInt(int) * 100n + BigInt(`${frac}00`.slice(0, 2));
  if (Number(`${frac}000`.charAt(2)) >= 5) cents += 1n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative && cents > 0n ? '-' : ''}${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** The insights as a terminal report, read from the billing_insights tables. */
export async function renderInsights(warehouse: Warehouse): Promise<string> {
  const [exists] = await warehouse.all<{ n: number }>(
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'billing_insights'",
  );
  if (!exists?.n) return 'No insights yet: run `billing-pipeline materialize` first.';
  const [totals] = await warehouse.all('SELECT * FROM billing_insights');
  if (!totals || Number(totals.total_events) === 0) return 'No billing events loaded yet.';
  // Every list in an explicit order: PostgreSQL does not promise to read a table in insertion order.
  const q = (sql: string) => warehouse.all(sql);
  const [users, regions, ops, tiers, days, anomalies] = await Promise.all([
    q('SELECT * FROM insights_top_users ORDER BY rank'),
    q('SELECT * FROM insights_top_regions ORDER BY rank'),
    q('SELECT * FROM insights_operation_mix ORDER BY event_count DESC, operation_type'),
    q('SELECT * FROM insights_tier_performance ORDER BY total_credit_usage DESC, service_tier'),
    q('SELECT * FROM insights_daily_change ORDER BY day DESC LIMIT 7'),
    // Older warehouses have no anomaly table until the insights are rebuilt.
    q(
      `SELECT * FROM insights_spend_anomalies
       ORDER BY abs(CAST(normalized_spend - baseline_median AS DOUBLE PRECISION)) DESC, entity_type, entity, day LIMIT 10`,
    ).catch(() => [] as Row[]),
  ]);
  const currency = cellText(totals.reporting_currency ?? 'USD');
  const normalized = (value: unknown) =>
    value === undefined ? '-' : value === null ? 'unknown (missing FX rates)' : money(value);
  const table = (headers: string[], rows: Row[], cells: (r: Row) => unknown[]) =>
    toTable(
      headers,
      rows.map((r) => cells(r).map((c) => (c === null || c === undefined ? null : String(c)))),
    );
  return [
    'BILLING INSIGHTS',
    '================',
    `Period           ${cellText(totals.first_day)} .. ${cellText(totals.last_day)} (${cellText(totals.days)} days)`,
    `Events           ${cellText(totals.total_events)}`,
    `Credit usage     ${money(totals.total_credit_usage)} (exact: ${cellText(totals.total_credit_usage)}; each event in its own currency)`,
    `In ${currency}           ${normalized(totals.total_normalized_credit_usage)}${totals.total_normalized_credit_usage ? ` (exact: ${cellText(totals.total_normalized_credit_usage)})` : ''}`,
    `Avg per day      ${money(totals.avg_daily_credit_usage)}`,
    `Users            ${cellText(totals.total_users)}`,
    `Success rate     ${pct(totals.success_rate)}`,
    '',
    'Most active users',
    table(['#', 'user_id', 'events', 'credit_usage', currency, 'share'], users, (r) => [
      r.rank,
      r.user_id,
      r.event_count,
      money(r.total_credit_usage),
      money(r.total_normalized_credit_usage),
      pct(r.share_of_events),
    ]),
    '',
    'Most resource-intensive regions',
    table(['#', 'region', 'credit_usage', currency, 'events', 'users', `share_${currency}`], regions, (r) => [
      r.rank,
      r.region,
      money(r.total_credit_usage),
      money(r.total_normalized_credit_usage),
      r.event_count,
      r.unique_users,
      pct(r.share_of_normalized_spend ?? r.share_of_spend),
    ]),
    '',
    'Operation types',
    table(['operation', 'events', 'share', 'credit_usage'], ops, (r) => [
      r.operation_type,
      r.event_count,
      pct(r.share_of_events),
      money(r.total_credit_usage),
    ]),
    '',
    'Service tiers',
    table(['tier', 'events', 'credit_usage', 'avg_per_event', 'success_rate'], tiers, (r) => [
      r.service_tier,
      r.event_count,
      money(r.total_credit_usage),
      r.avg_credit_usage,
      pct(r.success_rate),
    ]),
    '',
    'Day over day (latest 7 days)',
    table(
      ['day', 'events', 'credit_usage', 'change', 'change_%', currency, `${currency}_change_%`],
      days,
      (r) => [
        r.day,
        r.event_count,
        money(r.total_credit_usage),
        r.credit_usage_change === null ? '-' : money(r.credit_usage_change),
        r.credit_usage_change_pct === null ? '-' : `${cellText(r.credit_usage_change_pct)}%`,
        money(r.total_normalized_credit_usage),
        r.normalized_change_pct === null || r.normalized_change_pct === undefined
          ? '-'
          : `${cellText(r.normalized_change_pct)}%`,
      ],
    ),
    '',
    `Spend anomalies (${cellText(totals.spend_anomalies ?? 0)}; robust z against each user's and region's trailing days)`,
    anomalies.length === 0
      ? '  none'
      : table(['kind', 'who', 'day', currency, 'baseline', 'robust_z', ''], anomalies, (r) => [
          r.entity_type,
          r.entity,
          r.day,
          money(r.normalized_spend),
          money(r.baseline_median),
          r.robust_z ?? 'flat',
          r.direction,
        ]),
  ].join('\n');
}
