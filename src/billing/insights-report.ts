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

/** A change with its sign: `+1,234.50`, `-12.00`. */
const signedMoney = (value: unknown): string => {
  const text = money(value);
  return text === '-' || text.startsWith('-') ? text : `+${text}`;
};

/** Spend minus baseline, exactly, for tables built before the `deviation` column existed. */
function deviationOf(r: Row): string | null {
  if (r.normalized_spend === null || r.baseline_median === null) return null;
  const scaled = (v: unknown) => {
    const [int = '0', frac = ''] = String(v).split('.');
    const units = BigInt(int.replace('-', '')) * 1_000_000n + BigInt(`${frac}000000`.slice(0, 6));
    return int.startsWith('-') ? -units : units;
  };
  const d = scaled(r.normalized_spend) - scaled(r.baseline_median);
  const abs = d < 0n ? -d : d;
  return `${d < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/**
 * Why there is nothing to report although `billing_events` holds events: every day is held back from
 * the aggregates (a failed error check), or the insights were not rebuilt since the load.
 */
async function emptyReason(warehouse: Warehouse): Promise<string> {
  const [events] = await warehouse
    .all<{ n: number; days: number }>(
      'SELECT count(*) AS n, count(DISTINCT event_date) AS days FROM billing_events',
    )
    .catch(() => [] as { n: number; days: number }[]);
  if (!events || Number(events.n) === 0) return 'No billing events loaded yet.';
  return [
    `${cellText(events.n)} billing events are loaded (${cellText(events.days)} days), but no day is in the aggregates yet:`,
    'the checks held every day back, or the insights were not rebuilt since.',
    'See `billing-pipeline checks` for what failed, then `billing-pipeline materialize`.',
  ].join('\n');
}

/**
 * The insights as a terminal report, read from the billing_insights tables. Every money column is
 * in the reporting currency, labelled with its code; amounts in their original currencies appear
 * only per currency, never added across currencies. An unknown amount (an event lacks an FX rate)
 * reads "unknown", never a partial sum.
 */
export async function renderInsights(warehouse: Warehouse): Promise<string> {
  const [exists] = await warehouse.all<{ n: number }>(
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'billing_insights'",
  );
  if (!exists?.n) return 'No insights yet: run `billing-pipeline materialize` first.';
  const [totals] = await warehouse.all('SELECT * FROM billing_insights');
  if (!totals || Number(totals.total_events) === 0) return emptyReason(warehouse);
  // Every list in an explicit order: PostgreSQL does not promise to read a table in insertion order.
  // Older warehouses lack the newer tables until the insights are rebuilt.
  const q = (sql: string) => warehouse.all(sql).catch(() => [] as Row[]);
  const [currencies, users, regions, ops, tiers, days, anomalies] = await Promise.all([
    q('SELECT * FROM insights_currency_totals ORDER BY event_count DESC, currency'),
    q('SELECT * FROM insights_top_users ORDER BY rank'),
    q('SELECT * FROM insights_top_regions ORDER BY rank'),
    q('SELECT * FROM insights_operation_mix ORDER BY event_count DESC, operation_type'),
    q(
      'SELECT * FROM insights_tier_performance ORDER BY total_normalized_credit_usage DESC NULLS LAST, event_count DESC, service_tier',
    ),
    q('SELECT * FROM insights_daily_change ORDER BY day DESC LIMIT 7'),
    q(
      `SELECT * FROM insights_spend_anomalies
       ORDER BY abs(normalized_spend - baseline_median) DESC, entity_type, entity, day LIMIT 10`,
    ),
  ]);
  const currency = cellText(totals.reporting_currency ?? 'USD');
  const unknown = 'unknown';
  const inCurrency = (value: unknown) =>
    value === undefined ? '-' : value === null ? unknown : `${money(value)} ${currency}`;
  const amount = (value: unknown) => (value === null ? unknown : money(value));
  const table = (headers: string[], rows: Row[], cells: (r: Row) => unknown[]) =>
    toTable(
      headers,
      rows.map((r) => cells(r).map((c) => (c === null || c === undefined ? null : String(c)))),
    );
  const spend = totals.total_normalized_credit_usage;
  const missingRates = currencies.filter((r) => r.total_normalized_credit_usage === null);
  return [
    'BILLING INSIGHTS',
    '================',
    `Period           ${cellText(totals.first_day)} .. ${cellText(totals.last_day)} (${cellText(totals.days)} days)`,
    `Events           ${cellText(totals.total_events)}`,
    `Spend            ${inCurrency(spend)}${spend ? ` (exact: ${cellText(spend)} ${currency})` : ''}`,
    `Avg per day      ${inCurrency(totals.avg_daily_normalized_credit_usage)}`,
    `Users            ${cellText(totals.total_users)}`,
    `Success rate     ${pct(totals.success_rate)}`,
    ...(missingRates.length > 0
      ? [
          '',
          `${currency} amounts are unknown: no FX rate for some ${missingRates.map((r) => cellText(r.currency)).join(', ')} events.`,
          'Set BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml) to an FX rate file; see `billing-pipeline checks`.',
        ]
      : []),
    '',
    'Per currency (each in its own currency, as billed)',
    table(['currency', 'events', 'share', 'total', `in_${currency}`], currencies, (r) => [
      r.currency,
      r.event_count,
      pct(r.share_of_events),
      `${money(r.total_credit_usage)} ${cellText(r.currency)}`,
      amount(r.total_normalized_credit_usage),
    ]),
    '',
    'Most active users',
    table(['#', 'user_id', 'events', `spend_${currency}`, 'share_of_events'], users, (r) => [
      r.rank,
      r.user_id,
      r.event_count,
      amount(r.total_normalized_credit_usage),
      pct(r.share_of_events),
    ]),
    '',
    `Most resource-intensive regions (by spend in ${currency})`,
    table(['#', 'region', `spend_${currency}`, 'share', 'events', 'users'], regions, (r) => [
      r.rank,
      r.region,
      amount(r.total_normalized_credit_usage),
      pct(r.share_of_normalized_spend),
      r.event_count,
      r.unique_users,
    ]),
    '',
    'Operation types',
    table(['operation', 'events', 'share', `spend_${currency}`], ops, (r) => [
      r.operation_type,
      r.event_count,
      pct(r.share_of_events),
      amount(r.total_normalized_credit_usage),
    ]),
    '',
    'Service tiers',
    table(
      ['tier', 'events', `spend_${currency}`, 'share', `avg_per_event_${currency}`, 'success_rate'],
      tiers,
      (r) => [
        r.service_tier,
        r.event_count,
        amount(r.total_normalized_credit_usage),
        pct(r.share_of_normalized_spend),
        r.avg_normalized_credit_usage === null || r.avg_normalized_credit_usage === undefined
          ? unknown
          : cellText(r.avg_normalized_credit_usage),
        pct(r.success_rate),
      ],
    ),
    '',
    'Day over day (latest 7 days)',
    table(
      ['day', 'events', 'events_change', `spend_${currency}`, `change_${currency}`, 'change_%'],
      days,
      (r) => [
        r.day,
        r.event_count,
        r.event_count_change ?? '-',
        amount(r.total_normalized_credit_usage),
        r.normalized_change === null ? '-' : money(r.normalized_change),
        r.normalized_change_pct === null || r.normalized_change_pct === undefined
          ? '-'
          : `${cellText(r.normalized_change_pct)}%`,
      ],
    ),
    '',
    `Spend anomalies (${cellText(totals.spend_anomalies ?? 0)}): user and region days far from their own trailing days, largest money at stake first${anomalies.length < Number(totals.spend_anomalies ?? 0) ? `, top ${anomalies.length}` : ''}`,
    anomalies.length === 0
      ? '  none'
      : table(
          [
            'day',
            'who',
            `change_${currency}`,
            `spend_${currency}`,
            `usual_${currency}`,
            'robust_z',
            'direction',
          ],
          anomalies,
          (r) => [
            r.day,
            `${cellText(r.entity_type)} ${cellText(r.entity)}`,
            signedMoney(r.deviation ?? deviationOf(r)),
            money(r.normalized_spend),
            money(r.baseline_median),
            r.robust_z ?? 'flat',
            r.direction,
          ],
        ),
  ].join('\n');
}
