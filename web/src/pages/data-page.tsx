import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, StatusBadge } from '../components/ui.js';
import { bytes, count, dateTime } from '../format.js';
import { useGet } from '../hooks.js';
import { Link, setQuery, useLocation } from '../router.js';

const TABS = [
  { id: 'rejected', label: 'Rejected rows' },
  { id: 'files-rejected', label: 'Rejected files' },
  { id: 'files', label: 'File inventory' },
] as const;

export function DataPage() {
  const { query } = useLocation();
  const tab = TABS.find((t) => t.id === query.get('tab'))?.id ?? 'rejected';
  return (
    <div className="stack">
      <PageHead
        title="Data"
        sub="What came in, and what was kept aside: every rejected row and file with the reason, the file and the line."
      />
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={tab === t.id ? 'on' : ''}
            onClick={() => setQuery({ tab: t.id, offset: null, category: null, status: null })}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tab === 'rejected' && (
        <RejectedRows category={query.get('category')} offset={Number(query.get('offset') ?? 0)} />
      )}
      {tab === 'files-rejected' && <RejectedFiles />}
      {tab === 'files' && <Files status={query.get('status')} offset={Number(query.get('offset') ?? 0)} />}
    </div>
  );
}

function RejectedRows(props: { category: string | null; offset: number }) {
  const reasons = useGet('/api/data/rejected-reasons', {}, { pollMs: 10000 });
  const limit = 50;
  const rows = useGet('/api/data/rejected-rows', { category: props.category, limit, offset: props.offset });
  const total = (reasons.data?.reasons ?? []).reduce((n, r) => n + Number(r.rows), 0);
  return (
    <>
      <Card title="Why rows were rejected">
        <Async
          state={reasons}
          lines={2}
          empty={(d) =>
            d.reasons.length === 0 ? 'No rejected rows: every line of every file passed the row rules.' : null
          }
        >
          {(d) => (
            <div className="row">
              <button
                type="button"
                className={`chip ${props.category ? '' : 'on'}`}
                onClick={() => setQuery({ category: null, offset: null })}
              >
                All {count(total)}
              </button>
              {d.reasons.map((r) => (
                <button
                  key={String(r.category)}
                  type="button"
                  className={`chip ${props.category === r.category ? 'on' : ''}`}
                  onClick={() => setQuery({ category: String(r.category), offset: null })}
                  title={`e.g. ${r.example}`}
                >
                  {String(r.category)} · {count(r.rows)} rows in {count(r.files)} files
                </button>
              ))}
            </div>
          )}
        </Async>
      </Card>
      <Card flush>
        <Async state={rows} lines={8}>
          {(d) => (
            <DataTable
              label="rejected rows"
              rows={d.rows}
              rowKey={(r) => `${r.source_key}:${r.line_number}`}
              empty="No rejected rows."
              paging={{
                offset: props.offset,
                limit,
                total: d.total,
                onPage: (offset) => setQuery({ offset: String(offset) }, { replace: true }),
              }}
              columns={[
                {
                  key: 'source_key',
                  label: 'File',
                  wrap: true,
                  render: (r) => <code>{String(r.source_key)}</code>,
                },
                { key: 'line_number', label: 'Line', num: true },
                {
                  key: 'reason',
                  label: 'Reason',
                  wrap: true,
                  render: (r) => <span className="level-error">{String(r.reason)}</span>,
                },
                {
                  key: 'raw',
                  label: 'Raw line',
                  wrap: true,
                  render: (r) => <code className="hint">{String(r.raw ?? '')}</code>,
                },
                {
                  key: 'run_id',
                  label: 'Run',
                  render: (r) => <Link to={`/runs/${r.run_id}`}>{String(r.run_id)}</Link>,
                },
              ]}
            />
          )}
        </Async>
      </Card>
    </>
  );
}

function RejectedFiles() {
  const state = useGet('/api/data/rejected-files', {}, { pollMs: 10000 });
  return (
    <Card flush>
      <Async state={state} lines={4}>
        {(d) => (
          <DataTable
            label="rejected files"
            rows={d.files}
            rowKey={(r, i) => `${r.source_key}@${r.source_version}:${i}`}
            empty="No rejected files: every file had all 11 columns and could be read."
            columns={[
              {
                key: 'source_key',
                label: 'File',
                wrap: true,
                render: (r) => <code>{String(r.source_key)}</code>,
              },
              {
                key: 'reason',
                label: 'Reason',
                wrap: true,
                render: (r) => <span className="level-error">{String(r.reason)}</span>,
              },
              {
                key: 'current_status',
                label: 'Now',
                render: (r) => <StatusBadge status={String(r.current_status ?? 'missing')} />,
              },
              {
                key: 'source_version',
                label: 'Version',
                render: (r) => <span className="hint mono">{String(r.source_version).slice(0, 28)}</span>,
              },
              { key: 'rejected_at', label: 'When', render: (r) => dateTime(r.rejected_at) },
              {
                key: 'run_id',
                label: 'Run',
                render: (r) => <Link to={`/runs/${r.run_id}`}>{String(r.run_id)}</Link>,
              },
            ]}
          />
        )}
      </Async>
    </Card>
  );
}

function Files(props: { status: string | null; offset: number }) {
  const limit = 50;
  const state = useGet(
    '/api/data/files',
    { status: props.status, limit, offset: props.offset },
    { pollMs: 10000 },
  );
  return (
    <Card
      flush
      title={
        <div className="row">
          <button
            type="button"
            className={`chip ${props.status ? '' : 'on'}`}
            onClick={() => setQuery({ status: null, offset: null })}
          >
            All
          </button>
          {(state.data?.statuses ?? []).map((s) => (
            <button
              key={String(s.status)}
              type="button"
              className={`chip ${props.status === s.status ? 'on' : ''}`}
              onClick={() => setQuery({ status: String(s.status), offset: null })}
            >
              {String(s.status)} · {count(s.files)}
            </button>
          ))}
        </div>
      }
    >
      <Async state={state} lines={8}>
        {(d) => (
          <DataTable
            label="files"
            rows={d.files}
            rowKey={(r) => String(r.source_key)}
            empty="No files seen yet. Materialize billing_files to list the source."
            paging={{
              offset: props.offset,
              limit,
              total: d.total,
              onPage: (offset) => setQuery({ offset: String(offset) }, { replace: true }),
            }}
            columns={[
              {
                key: 'source_key',
                label: 'File',
                wrap: true,
                render: (r) => <code>{String(r.source_key)}</code>,
              },
              {
                key: 'partition',
                label: 'Day',
                // A key with no real day (day=30 of February, no day at all) is recorded with no partition.
                render: (r) =>
                  r.partition == null ? (
                    <span className="hint">no date</span>
                  ) : (
                    <Link to={`/assets/billing_events?from=${r.partition}&to=${r.partition}`}>
                      {String(r.partition)}
                    </Link>
                  ),
              },
              { key: 'status', label: 'Status', render: (r) => <StatusBadge status={String(r.status)} /> },
              { key: 'size', label: 'Size', num: true, render: (r) => bytes(r.size) },
              { key: 'row_count', label: 'Rows', num: true, render: (r) => count(r.row_count) },
              {
                key: 'rejected_row_count',
                label: 'Rejected',
                num: true,
                render: (r) => count(r.rejected_row_count),
              },
              { key: 'loaded_at', label: 'Loaded', render: (r) => dateTime(r.loaded_at) },
              {
                key: 'error',
                label: 'Error',
                wrap: true,
                render: (r) => (r.error ? <span className="level-error">{String(r.error)}</span> : ''),
              },
            ]}
          />
        )}
      </Async>
    </Card>
  );
}
