import { count } from '../format.js';
import { useGet } from '../hooks.js';
import { Link } from '../router.js';

/**
 * Files rejected whole (missing columns, corrupt gzip, a copy of a loaded file) load none of their
 * rows: a figure on this page is short by all of them, so they are named at the top, with the
 * reason and the run that rejected them, not only in a warn-level check.
 */
export function RejectedFilesBanner() {
  const state = useGet('/api/data/rejected-files', {}, { pollMs: 15000, keep: true });
  const seen = new Set<string>();
  // Newest rejection first; a file later loaded fine (current status "loaded") is no longer short.
  const files = (state.data?.files ?? []).filter((f) => {
    if (seen.has(f.source_key) || (f.current_status !== 'rejected' && f.current_status !== 'duplicate')) {
      return false;
    }
    seen.add(f.source_key);
    return true;
  });
  if (files.length === 0) return null;
  const shown = files.slice(0, 5);
  return (
    <section className="banner rejected-files" aria-label="rejected files">
      <div className="row">
        <b className="grow">
          {count(files.length)} {files.length === 1 ? 'file' : 'files'} rejected: none of their rows are in
          these figures
        </b>
        <Link to="/data?tab=files-rejected">See all rejected files</Link>
      </div>
      <ul>
        {shown.map((f) => (
          <li key={f.source_key}>
            <code>{f.source_key}</code>: {f.reason}
            {f.run_id && (
              <>
                {' '}
                (<Link to={`/runs/${f.run_id}`}>run {f.run_id}</Link>)
              </>
            )}
          </li>
        ))}
        {files.length > shown.length && <li>… and {count(files.length - shown.length)} more</li>}
      </ul>
    </section>
  );
}
