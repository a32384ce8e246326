import type {
  AssetCheckContext,
  AssetCheckDefinition,
  CheckOutcome,
} from '../../orchestrator/asset-check.js';
import type { Cell } from '../../warehouse/warehouse.js';
import * as sql from './check-sql.js';
import { fxRateCheck } from './fx-rate-check.js';
import type { CheckSettings } from './quality-config.js';

/** The checks on `billing_events`, evaluated per path-day partition (plus one whole-table contract). */

export interface EventCheckOptions {
  settings: CheckSettings;
  reportingCurrency: string;
  /** The configured FX rate file, or null when none is (fx_rate_available then only notes). */
  fxSource: string | null;
}

export type ProfileRow = Record<string, Cell>;

/** What a partition check looks at: the partitions just written plus those still failing. */
export function checkedPartitions(ctx: AssetCheckContext, extra: readonly string[] = []): string[] {
  const failing = ctx.failing.filter((p): p is string => p !== null);
  return [...new Set([...ctx.partitions, ...failing, ...extra])].sort();
}

export const count = (row: ProfileRow | undefined, column: string): number => Number(row?.[column] ?? 0);
/** A profile's amount with its billing currency (`min_credit` + `min_credit_currency`). */
const billed = (row: ProfileRow | undefined, column: string): string => {
  const currency = row?.[`${column}_currency`];
  return `${String(row?.[column])}${currency ? ` ${String(currency)}` : ''}`;
};
const share = (part: number, whole: number): string => (whole === 0 ? '0' : (part / whole).toFixed(4));

/** The contract of billing_events: these columns with exactly these types (money never DOUBLE). */
export const EVENT_SCHEMA: readonly [string, string][] = [
  ['timestamp', 'TIMESTAMP'],
  ['resource_id', 'VARCHAR'],
  ['user_id', 'BIGINT'],
  ['credit_usage', 'DECIMAL(18,6)'],
  ['region', 'VARCHAR'],
  ['service_tier', 'VARCHAR'],
  ['operation_type', 'VARCHAR'],
  ['success', 'BOOLEAN'],
  ['resource_type', 'VARCHAR'],
  ['invoice_id', 'VARCHAR'],
  ['currency', 'VARCHAR'],
  ['year', 'INTEGER'],
  ['month', 'INTEGER'],
  ['day', 'INTEGER'],
  ['event_date', 'DATE'],
  ['source_key', 'VARCHAR'],
  ['source_line', 'BIGINT'],
  ['normalized_credit_usage', 'DECIMAL(18,6)'],
];

export type Profile = (
  ctx: AssetCheckContext,
  partitions: readonly string[],
) => Promise<Map<string, ProfileRow>>;

export function eventChecks(options: EventCheckOptions): AssetCheckDefinition[] {
  const s = options.settings;
  const profileSql = {
    duckdb: sql.eventProfileSql(s, 'duckdb'),
    postgres: sql.eventProfileSql(s, 'postgres'),
  };
  // The row-level checks share one scan per evaluation.
  let cached: { key: string; rows: Promise<Map<string, ProfileRow>> } | null = null;
  const profile: Profile = (ctx, partitions) => {
    const key = `${ctx.runId}|${partitions.join(',')}`;
    if (cached?.key !== key) {
      const rows = ctx.warehouse
        .all<ProfileRow>(profileSql[ctx.warehouse.dialect], [partitions.join(',')])
        .then((list) => new Map(list.map((r) => [String(r.partition), r])));
      cached = { key, rows };
    }
    return cached.rows;
  };
  /** A check that turns each partition's profile row into a verdict. */
  const perPartition = (
    name: string,
    description: string,
    severity: AssetCheckDefinition['severity'],
    judge: (
      row: ProfileRow | undefined,
      partition: string,
      ctx: AssetCheckContext,
    ) => Promise<CheckOutcome> | CheckOutcome,
  ): AssetCheckDefinition => ({
    name,
    description,
    severity,
    async evaluate(ctx) {
      const partitions = checkedPartitions(ctx);
      if (partitions.length === 0) return [];
      const rows = await profile(ctx, partitions);
      return Promise.all(partitions.map((p) => judge(rows.get(p), p, ctx)));
    },
  });

  const checks: AssetCheckDefinition[] = [];
  if (s.schema_conformance.enabled) {
    checks.push({
      name: 'schema_conformance',
      description: 'billing_events has every contract column with its exact type',
      severity: s.schema_conformance.severity,
      async evaluate(ctx) {
        if (!ctx.changed && ctx.failing.length === 0) return [];
        const { columns } = await ctx.warehouse.query(sql.TABLE_SCHEMA('billing_events'));
        const types = new Map(columns.map((c) => [c.name, c.type]));
        const problems = EVENT_SCHEMA.filter(([name, type]) => types.get(name) !== type).map(
          ([name, type]) => `${name} is ${types.get(name) ?? 'missing'}, expected ${type}`,
        );
        return [
          {
            partition: null,
            passed: problems.length === 0,
            observed: problems.length,
            threshold: 0,
            message: problems.length > 0 ? problems.join('; ') : null,
          },
        ];
      },
    });
  }
  if (s.not_null.enabled) {
    checks.push(
      perPartition(
        'not_null',
        `No NULL in ${s.not_null.columns.join(', ')}`,
        s.not_null.severity,
        (row, partition) => {
          const nulls = s.not_null.columns
            .map((c) => [c, count(row, sql.nullCount(c))] as const)
            .filter(([, n]) => n > 0);
          const total = nulls.reduce((n, [, k]) => n + k, 0);
          return {
            partition,
            passed: total === 0,
            observed: total,
            threshold: 0,
            message: total > 0 ? `NULL values: ${nulls.map(([c, n]) => `${c} ×${n}`).join(', ')}` : null,
          };
        },
      ),
    );
  }
  if (s.accepted_values.enabled) {
    for (const [column, values] of Object.entries(s.accepted_values.columns)) {
      if (!values || values.length === 0) continue;
      checks.push(
        perPartition(
          `accepted_values_${column}`,
          `${column} is one of: ${values.join(', ')}`,
          s.accepted_values.severity,
          (row, partition) => {
            const bad = count(row, sql.badCount(column));
            return {
              partition,
              passed: bad === 0,
              observed: bad,
              threshold: 0,
              message:
                bad > 0
                  ? `${bad} event(s) with ${column} outside the accepted list, e.g. "${String(row?.[sql.badSample(column)])}"`
                  : null,
            };
          },
        ),
      );
    }
  }
  if (s.credit_usage_range.enabled) {
    const r = s.credit_usage_range;
    const bounds = `[${r.min ?? '-∞'}, ${r.max ?? '∞'}]`;
    checks.push(
      perPartition(
        'credit_usage_range',
        `credit_usage within ${bounds} (in each event's own currency); refunds (negative amounts) at most ${r.max_refund_share} of events`,
        r.severity,
        (row, partition) => {
          const events = count(row, 'events');
          const refunds = count(row, 'refunds');
          const outside = count(row, 'out_of_range');
          const refundShare = events === 0 ? 0 : refunds / events;
          const problems = [
            outside > 0
              ? `${outside} amount(s) outside ${bounds} in the event's own currency (min ${billed(row, 'min_credit')}, max ${billed(row, 'max_credit')})`
              : null,
            refundShare > r.max_refund_share
              ? `${refunds} refund(s) of ${events} events, share ${share(refunds, events)} > ${r.max_refund_share}`
              : null,
          ].filter((x) => x !== null);
          return {
            partition,
            passed: problems.length === 0,
            observed: `${outside} out of range; refund share ${share(refunds, events)}`,
            threshold: `${bounds}; refund share <= ${r.max_refund_share}`,
            message: problems.length > 0 ? problems.join('; ') : null,
          };
        },
      ),
    );
  }
  if (s.timestamp_window.enabled) {
    const w = s.timestamp_window;
    checks.push(
      perPartition(
        'timestamp_window',
        `Event timestamps fall on the partition's day ± ${w.tolerance_hours} h`,
        w.severity,
        (row, partition) => {
          const events = count(row, 'events');
          const outside = count(row, 'outside_window');
          const passed = events === 0 || outside / events <= w.max_outside_share;
          return {
            partition,
            passed,
            observed: outside,
            threshold: `share <= ${w.max_outside_share}`,
            message:
              outside > 0
                ? `${outside} of ${events} event(s) outside ${partition} ± ${w.tolerance_hours} h (timestamps ${row?.first_timestamp} .. ${row?.last_timestamp})`
                : null,
          };
        },
      ),
    );
  }
  if (s.fx_rate_available.enabled) {
    checks.push(fxRateCheck(options, profile, (ctx) => checkedPartitions(ctx)));
  }
  if (s.rejected_row_rate.enabled) {
    const max = s.rejected_row_rate.max_rate;
    checks.push({
      name: 'rejected_row_rate',
      description: `Each file rejects at most ${max} of its rows (a file rejected whole counts as 1)`,
      severity: s.rejected_row_rate.severity,
      async evaluate(ctx) {
        type RatedFile = {
          kind: 'file' | 'rejected';
          partition: string;
          source_key: string;
          status: string;
          rate: number;
          rejected_rows: number;
          data_rows: number;
        };
        // The run's whole-file rejections and the files' rates in one statement (issue 12).
        const rows = await ctx.warehouse.all<RatedFile>(sql.REJECTION_RATES_WITH_RUN, [
          checkedPartitions(ctx).join(','),
          ctx.runId,
        ]);
        const rejectedNow = rows.filter((r) => r.kind === 'rejected');
        const partitions = checkedPartitions(
          ctx,
          rejectedNow.map((r) => r.partition),
        );
        if (partitions.length === 0) return [];
        // A rejected file without a day: keep the separate query and whatever it makes of that.
        const files = rejectedNow.some((r) => r.partition === null)
          ? await ctx.warehouse.all<RatedFile>(sql.FILE_REJECTION_RATES, [partitions.join(',')])
          : rows.filter((r) => r.kind === 'file');
        return partitions.map((partition) => {
          const mine = files.filter((f) => f.partition === partition);
          const worst = mine[0];
          const over = mine.filter((f) => Number(f.rate) > max);
          return {
            partition,
            passed: over.length === 0,
            observed: worst ? Number(worst.rate).toFixed(4) : 0,
            threshold: max,
            message:
              over.length > 0
                ? over
                    .slice(0, 3)
                    .map((f) =>
                      f.status === 'rejected'
                        ? `${f.source_key} rejected whole`
                        : `${f.source_key}: ${f.rejected_rows} of ${f.data_rows} row(s) rejected`,
                    )
                    .join('; ') + (over.length > 3 ? ` (and ${over.length - 3} more file(s))` : '')
                : null,
          };
        });
      },
    });
  }
  if (s.file_row_reconciliation.enabled) {
    checks.push({
      name: 'file_row_reconciliation',
      description: "Per file: events loaded = the file's data rows minus its rejected rows",
      severity: s.file_row_reconciliation.severity,
      async evaluate(ctx) {
        const partitions = checkedPartitions(ctx);
        if (partitions.length === 0) return [];
        const files = await ctx.warehouse.all<{
          partition: string;
          source_key: string;
          data_rows: number;
          rejected_rows: number;
          events: number;
        }>(sql.FILE_ROW_RECONCILIATION, [partitions.join(',')]);
        return partitions.map((partition) => {
          const off = files.filter(
            (f) =>
              f.partition === partition && Number(f.events) !== Number(f.data_rows) - Number(f.rejected_rows),
          );
          return {
            partition,
            passed: off.length === 0,
            observed: off.length,
            threshold: 0,
            message:
              off.length > 0
                ? off
                    .slice(0, 3)
                    .map(
                      (f) =>
                        `${f.source_key}: ${f.events} event(s), expected ${f.data_rows} data row(s) - ${f.rejected_rows} rejected = ${Number(f.data_rows) - Number(f.rejected_rows)}`,
                    )
                    .join('; ')
                : null,
          };
        });
      },
    });
  }
  return checks;
}
