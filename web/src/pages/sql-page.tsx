import { type KeyboardEvent, useState } from 'react';
import { api } from '../api.js';
import { type Column, DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Card, ErrorBanner } from '../components/ui.js';
import { isNumericType, toCsv } from '../csv.js';
import { cellText, count } from '../format.js';
import { useAction } from '../hooks.js';
import type { Row, SqlResult } from '../types.js';

const EXAMPLES = [
  {
    label: 'Daily spend',
    sql: 'SELECT day, event_count, total_credit_usage, success_rate\nFROM daily_aggregates\nORDER BY day DESC',
  },
  { label: 'Top users', sql: 'SELECT * FROM insights_top_users ORDER BY rank' },
  {
    label: 'Rejected by reason',
    sql: 'SELECT reason, count(*) AS rows\nFROM rejected_rows\nGROUP BY reason\nORDER BY rows DESC',
  },
  {
    label: 'Recent runs',
    sql: 'SELECT run_id, status, trigger, created_at, error\nFROM runs\nORDER BY created_at DESC\nLIMIT 20',
  },
];

function downloadCsv(result: SqlResult): void {
  const url = URL.createObjectURL(new Blob([toCsv(result.columns, result.rows)], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'query.csv';
  a.click();
  URL.revokeObjectURL(url);
}

export function SqlPage() {
  const [sql, setSql] = useState(() => sessionStorage.getItem('billing-sql') ?? EXAMPLES[0]?.sql ?? '');
  const [result, setResult] = useState<SqlResult | null>(null);
  const action = useAction();
  const run = () =>
    action.run(async () => {
      sessionStorage.setItem('billing-sql', sql);
      // An error must not leave the previous result (and its download) on screen as if it were this one's.
      setResult(null);
      setResult(await api<SqlResult>('/api/sql', { method: 'POST', body: { sql } }));
    });
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  };
  return (
    <div className="stack">
      <PageHead
        title="SQL"
        sub="Read-only SQL over the warehouse and the run ledger. SELECT only; results are capped."
      />
      <Card>
        <div className="stack" style={{ gap: 10 }}>
          <div className="row">
            {EXAMPLES.map((e) => (
              <button key={e.label} type="button" className="chip" onClick={() => setSql(e.sql)}>
                {e.label}
              </button>
            ))}
          </div>
          <textarea
            className="sql-editor"
            value={sql}
            onChange={(e) => setSql(e.target.value)}
            onKeyDown={onKeyDown}
            spellCheck={false}
            aria-label="SQL query"
          />
          <div className="row">
            <button type="button" className="primary" onClick={run} disabled={action.pending || !sql.trim()}>
              {action.pending ? 'Running…' : 'Run query'}
            </button>
            <span className="hint grow">Ctrl+Enter runs the query.</span>
            {result && (
              <>
                <span className="hint">
                  {count(result.rows.length)} row(s){result.truncated ? ' (truncated)' : ''} in{' '}
                  {count(result.elapsed_ms)} ms
                </span>
                <button type="button" onClick={() => downloadCsv(result)}>
                  Download CSV
                </button>
              </>
            )}
          </div>
          <ErrorBanner error={action.error} onClose={action.clear} />
        </div>
      </Card>
      {result && (
        <Card flush>
          <DataTable
            label="query result"
            rows={result.rows}
            rowKey={(_, i) => String(i)}
            maxHeight={560}
            empty="The query returned no rows."
            columns={result.columns.map(
              (c): Column<Row> => ({
                key: c.name,
                label: c.name,
                num: isNumericType(c.type),
                render: (r: Row) => cellText(r[c.name]),
              }),
            )}
          />
        </Card>
      )}
    </div>
  );
}
