import * as sql from '../alert-sql.js';
import type { AlertCondition } from '../alert-types.js';
import { NO_PERIOD, type RuleDefinition } from './rule.js';

interface RunRow {
  run_id: string;
  trigger: string;
  status: string;
  error: string | null;
  finished_at: string;
  selection: string | null;
}

const firstLine = (text: string): string => {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
};

export const runFailedRule: RuleDefinition = {
  rule: 'run_failed',
  description: 'The latest finished run of a trigger failed (resolves when a later run of it succeeds)',
  tables: ['runs'],
  async conditions(ctx) {
    const rows = await ctx.session.all<RunRow>(sql.LATEST_FINISHED_RUNS);
    const judged = new Set(rows.map((r) => `trigger:${r.trigger}`));
    // A trigger that has not run for 30 days: nothing says it recovered, its alert stays open.
    const carried = ctx.open
      .filter((a) => !judged.has(a.scope))
      .map(
        ({ rule, scope, period, threshold, severity, summary, details }): AlertCondition => ({
          rule,
          scope,
          period,
          threshold,
          severity,
          summary,
          details,
        }),
      );
    const failing = rows
      .filter((r) => r.status === 'failed')
      .map(
        (r): AlertCondition => ({
          rule: 'run_failed',
          scope: `trigger:${r.trigger}`,
          // One alert per trigger, not per run: a second failure in a row is the same outage.
          period: NO_PERIOD,
          threshold: null,
          severity: 'error',
          summary: `Run ${r.run_id} (${r.trigger}) failed${r.error ? `: ${firstLine(r.error)}` : ''}`,
          details: {
            run_id: r.run_id,
            trigger: r.trigger,
            error: r.error,
            finished_at: r.finished_at,
            selection: r.selection ? r.selection.split(',') : [],
          },
        }),
      );
    return [...failing, ...carried];
  },
};
