import { DataTable } from '../components/data-table.js';
import { Async, StatusBadge } from '../components/ui.js';
import { count, dateTime, relative } from '../format.js';
import { useApi } from '../hooks.js';
import { Link, navigate } from '../router.js';
import type { PartitionDetail } from '../types.js';

/** A source file behind a partition, as GET /api/assets/{name}/partitions/{day} lists it. */
type PartitionFile = PartitionDetail['files'][number];

/** One day of a daily asset: the runs that built it, its files and sample source rows. */
export function PartitionDetailView(props: { name: string; day: string }) {
  const state = useApi<PartitionDetail>(
    `/api/assets/${encodeURIComponent(props.name)}/partitions/${props.day}?rows=10`,
  );
  return (
    <div className="stack" style={{ marginTop: 18 }}>
      <Async state={state} lines={4}>
        {(d) => (
          <>
            <div className="row">
              <h2 style={{ margin: 0 }}>{d.partition}</h2>
              <StatusBadge status={d.status} label={d.status ?? 'no partition'} />
              {d.materialized_at && <span className="hint">materialized {dateTime(d.materialized_at)}</span>}
            </div>
            <div className="grid-2">
              <div>
                <h3>Runs that built it</h3>
                <DataTable
                  label="partition runs"
                  rows={d.materializations}
                  rowKey={(r, i) => `${r.run_id}-${i}`}
                  empty="Never materialized."
                  onRowClick={(r) => navigate(`/runs/${r.run_id}`)}
                  columns={[
                    {
                      key: 'run_id',
                      label: 'Run',
                      render: (r) => <code className="nowrap">{String(r.run_id)}</code>,
                    },
                    {
                      key: 'status',
                      label: 'Status',
                      render: (r) => <StatusBadge status={String(r.status)} />,
                    },
                    { key: 'trigger', label: 'Trigger' },
                    { key: 'row_count', label: 'Rows', num: true, render: (r) => count(r.row_count) },
                    {
                      key: 'created_at',
                      label: 'When',
                      render: (r) => <span className="nowrap">{relative(r.created_at)}</span>,
                    },
                  ]}
                />
              </div>
              <div>
                <h3>Files behind it</h3>
                <DataTable
                  label="partition files"
                  rows={d.files}
                  rowKey={(r) => String(r.source_key)}
                  empty="No source files."
                  columns={[
                    {
                      key: 'source_key',
                      label: 'File',
                      wrap: true,
                      render: (r) => <code>{String(r.source_key)}</code>,
                    },
                    { key: 'events', label: 'Events', num: true, render: (r) => count(r.events) },
                    // A file's amounts may be in several currencies; their sum would mean nothing here
                    // (the dashboard's drill-down shows them per currency and in the reporting currency).
                    ...(d.files[0] && 'status' in d.files[0]
                      ? [
                          {
                            key: 'status',
                            label: 'Status',
                            render: (r: PartitionFile) => <StatusBadge status={String(r.status)} />,
                          },
                        ]
                      : []),
                    {
                      key: 'run_id',
                      label: 'Loaded by',
                      render: (r) =>
                        r.run_id ? <Link to={`/runs/${r.run_id}`}>{String(r.run_id)}</Link> : '—',
                    },
                  ]}
                />
              </div>
            </div>
            <div>
              <h3>Sample source rows</h3>
              <DataTable
                label="sample rows"
                rows={d.rows}
                rowKey={(r) => `${r.source_key}:${r.source_line}`}
                empty="No events on this day."
                columns={[
                  {
                    key: 'source',
                    label: 'File : line',
                    render: (r) => <code>{`${String(r.source_key).split('/').pop()}:${r.source_line}`}</code>,
                  },
                  { key: 'timestamp', label: 'Timestamp' },
                  { key: 'user_id', label: 'User', num: true },
                  { key: 'credit_usage', label: 'Credit usage', num: true },
                  { key: 'currency', label: 'Cur.' },
                  { key: 'region', label: 'Region' },
                  { key: 'operation_type', label: 'Operation' },
                ]}
              />
            </div>
          </>
        )}
      </Async>
    </div>
  );
}
