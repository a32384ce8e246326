import * as sql from '../alert-sql.js';
import type { AlertCondition } from '../alert-types.js';
import { NO_PERIOD, type RuleDefinition } from './rule.js';

interface ResultRow {
  asset: string;
  partition: string | null;
  check_name: string;
  severity: string;
  observed: string | null;
  threshold: string | null;
  message: string | null;
  run_id: string;
  evaluated_at: string;
}

const scopeOf = (asset: string, check: string) => `check:${asset}/${check}`;

export const checkFailedRule: RuleDefinition = {
  rule: 'check_failed',
  description: 'The latest result of an error-severity asset check failed (per asset, check and partition)',
  tables: ['check_results', 'check_failures'],
  async conditions(ctx) {
    const rows = await ctx.session.all<ResultRow>(sql.FAILING_CHECK_RESULTS);
    const out: AlertCondition[] = [];
    for (const r of rows) {
      const scope = scopeOf(r.asset, r.check_name);
      const period = r.partition ?? NO_PERIOD;
      out.push({
        rule: 'check_failed',
        scope,
        period,
        // The check's own threshold text may change between evaluations (e.g. a deadline); it
        // must not make a still-failing check look like a new alert.
        threshold: null,
        severity: 'error',
        summary: `Check ${r.check_name} on ${r.asset}${r.partition ? ` (${r.partition})` : ''} failed${r.message ? `: ${r.message}` : ''}`,
        details: {
          asset: r.asset,
          check: r.check_name,
          partition: r.partition,
          observed: r.observed,
          threshold: r.threshold,
          message: r.message,
          run_id: r.run_id,
          evaluated_at: r.evaluated_at,
        },
      });
    }
    return out;
  },
};
