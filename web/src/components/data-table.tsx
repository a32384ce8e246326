import type { ReactNode } from 'react';
import { cellText, count } from '../format.js';

export interface Column<T> {
  key: string;
  label: string;
  render?: (row: T) => ReactNode;
  num?: boolean;
  wrap?: boolean;
  width?: number | string;
}

export interface Paging {
  offset: number;
  limit: number;
  total: number;
  onPage(offset: number): void;
}

/** The app's one table: typed columns, optional row click and selection, optional paging footer. */
export function DataTable<T>(props: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T, index: number) => string;
  onRowClick?: (row: T) => void;
  selected?: string | null;
  paging?: Paging;
  maxHeight?: number;
  empty?: ReactNode;
  label?: string;
}) {
  const { columns, rows, paging } = props;
  return (
    <>
      <div className="table-wrap" style={props.maxHeight ? { maxHeight: props.maxHeight } : undefined}>
        <table aria-label={props.label}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c.key}
                  className={c.num ? 'num' : undefined}
                  style={c.width ? { width: c.width } : undefined}
                >
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={columns.length} className="state">
                  {props.empty ?? 'Nothing here yet.'}
                </td>
              </tr>
            )}
            {rows.map((row, i) => {
              const key = props.rowKey(row, i);
              const click = props.onRowClick;
              return (
                <tr
                  key={key}
                  className={`${click ? 'clickable' : ''} ${props.selected === key ? 'selected' : ''}`}
                  onClick={click ? () => click(row) : undefined}
                  onKeyDown={click ? (e) => e.key === 'Enter' && click(row) : undefined}
                  tabIndex={click ? 0 : undefined}
                >
                  {columns.map((c) => (
                    <td key={c.key} className={c.num ? 'num' : c.wrap ? 'wrap' : undefined}>
                      {c.render ? c.render(row) : cellText((row as Record<string, unknown>)[c.key])}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {paging && paging.total > paging.limit && (
        <div className="pager">
          <span>
            {count(paging.offset + 1)}–{count(Math.min(paging.offset + paging.limit, paging.total))} of{' '}
            {count(paging.total)}
          </span>
          <span className="row">
            <button
              type="button"
              disabled={paging.offset === 0}
              onClick={() => paging.onPage(Math.max(0, paging.offset - paging.limit))}
            >
              Previous
            </button>
            <button
              type="button"
              disabled={paging.offset + paging.limit >= paging.total}
              onClick={() => paging.onPage(paging.offset + paging.limit)}
            >
              Next
            </button>
          </span>
        </div>
      )}
    </>
  );
}
