import { type KeyboardEvent, useRef, useState } from 'react';
import { api, postCsv } from '../api.js';
import { type Column, DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Card, ErrorBanner } from '../components/ui.js';
import { isNumericType } from '../csv.js';
import { cellText, count } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import type { Row, SqlResult, SqlSchema } from '../types.js';

/** The CSV route's caps (CSV_MAX_ROWS, CSV_MAX_BYTES in src/server/routes/sql.ts), stated to the user. */
const CSV_MAX_ROWS = 200_000;
const CSV_MAX_MIB = 64;

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

function saveBlob(blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = 'query.csv';
  a.click();
  URL.revokeObjectURL(url);
}

export function SqlPage() {
  const [sql, setSql] = useState(() => sessionStorage.getItem('billing-sql') ?? EXAMPLES[0]?.sql ?? '');
  // The result with the SQL that made it: the download re-runs that query, not the editor's text.
  const [result, setResult] = useState<(SqlResult & { sql: string }) | null>(null);
  const [download, setDownload] = useState<{ rows: number; truncated: boolean } | null>(null);
  const action = useAction();
  const editor = useRef<HTMLTextAreaElement>(null);
  const run = () =>
    action.run(async () => {
      sessionStorage.setItem('billing-sql', sql);
      // An error must not leave the previous result (and its download) on screen as if it were this one's.
      setResult(null);
      setDownload(null);
      const answer = await api<SqlResult>('/api/sql', { method: 'POST', body: { sql } });
      setResult({ ...answer, sql });
    });
  // The whole result, from the server: the table shows at most 1,000 rows.
  const downloadCsv = (ran: string) =>
    action.run(async () => {
      const file = await postCsv('/api/sql/csv', { sql: ran });
      setDownload({ rows: file.rows, truncated: file.truncated });
      saveBlob(file.csv);
    });
  /** Puts a table or column name at the caret (replacing a selection), as typing it would. */
  const insert = (text: string) => {
    const area = editor.current;
    const start = area?.selectionStart ?? sql.length;
    const end = area?.selectionEnd ?? sql.length;
    const next = `${sql.slice(0, start)}${text}${sql.slice(end)}`;
    setSql(next);
    requestAnimationFrame(() => {
      area?.focus();
      area?.setSelectionRange(start + text.length, start + text.length);
    });
  };
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
      <div className="sql-layout">
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
              ref={editor}
              className="sql-editor"
              value={sql}
              onChange={(e) => setSql(e.target.value)}
              onKeyDown={onKeyDown}
              spellCheck={false}
              aria-label="SQL query"
            />
            <div className="row">
              <button
                type="button"
                className="primary"
                onClick={run}
                disabled={action.pending || !sql.trim()}
              >
                {action.pending ? 'Running…' : 'Run query'}
              </button>
              <span className="hint grow">Ctrl+Enter runs the query.</span>
              {result && (
                <>
                  <span className="hint">
                    {count(result.rows.length)} row(s){result.truncated ? ' (truncated)' : ''} in{' '}
                    {count(result.elapsed_ms)} ms
                  </span>
                  <button
                    type="button"
                    onClick={() => downloadCsv(result.sql)}
                    disabled={action.pending}
                    title={`The whole result, not only the rows shown: up to ${count(CSV_MAX_ROWS)} rows or ${CSV_MAX_MIB} MiB`}
                  >
                    Download CSV
                  </button>
                </>
              )}
            </div>
            {result && (
              <div className="hint" role="note" aria-label="csv download note">
                Download CSV exports the whole result (up to {count(CSV_MAX_ROWS)} rows or {CSV_MAX_MIB} MiB),
                not only the {count(result.rows.length)} rows shown.
                {download &&
                  ` Downloaded ${count(download.rows)} row(s)${download.truncated ? ', cut at the cap' : ''}.`}
              </div>
            )}
            <ErrorBanner error={action.error} onClose={action.clear} />
          </div>
        </Card>
        <SchemaBrowser onInsert={insert} />
      </div>
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

/** Tables and views with their columns; a click puts the name into the editor at the caret. */
function SchemaBrowser(props: { onInsert(text: string): void }) {
  const state = useApi<SqlSchema>('/api/sql/schema');
  return (
    <Card title="Tables">
      <nav className="schema-browser" aria-label="schema browser">
        {state.error && <div className="hint unknown">{state.error.message}</div>}
        {!state.data && !state.error && <div className="hint">loading…</div>}
        {state.data?.tables.map((t) => (
          <details key={t.name}>
            <summary>
              <button type="button" onClick={() => props.onInsert(t.name)} title={`insert ${t.name}`}>
                {t.name}
              </button>
              {t.kind === 'view' && <span className="type">view</span>}
            </summary>
            <ul aria-label={`columns of ${t.name}`}>
              {t.columns.map((c) => (
                <li key={c.name}>
                  <button type="button" onClick={() => props.onInsert(c.name)} title={`insert ${c.name}`}>
                    {c.name}
                  </button>
                  <span className="type">{c.type}</span>
                </li>
              ))}
            </ul>
          </details>
        ))}
      </nav>
    </Card>
  );
}
