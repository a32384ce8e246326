import { useState } from 'react';
import { api } from '../api.js';
import { count } from '../format.js';
import { useAction } from '../hooks.js';
import { navigate } from '../router.js';
import type { MaterializeRequest, MaterializeResult } from '../types.js';
import { ErrorBanner } from './ui.js';

type Request = Omit<MaterializeRequest, 'dryRun'>;

/**
 * Every "materialize" button goes through here: it first asks the server what the selection is
 * (a dry run), shows the assets × partitions it will launch, and launches only on confirmation.
 */
export function useMaterialize() {
  const action = useAction();
  const [pending, setPending] = useState<{ request: Request; result: MaterializeResult } | null>(null);
  const ask = (request: Request) =>
    action.run(async () => {
      const result = await api<MaterializeResult>('/api/assets/materialize', {
        method: 'POST',
        body: { ...request, dryRun: true },
      });
      setPending({ request, result });
    });
  const confirm = () =>
    action.run(async () => {
      if (!pending) return;
      const result = await api<MaterializeResult>('/api/assets/materialize', {
        method: 'POST',
        body: pending.request,
      });
      setPending(null);
      if (result.runId) navigate(`/runs/${encodeURIComponent(result.runId)}`);
      else if (result.backfillId) navigate('/runs?view=backfills');
    });
  const dialog = (
    <>
      <ErrorBanner error={action.error} onClose={action.clear} />
      {pending && (
        <ConfirmPanel
          result={pending.result}
          backfill={pending.request.backfill === true}
          busy={action.pending}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
        />
      )}
    </>
  );
  return { ask, dialog, busy: action.pending };
}

function ConfirmPanel(props: {
  result: MaterializeResult;
  backfill: boolean;
  busy: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const { plan } = props.result;
  const nothing = plan.assets.length === 0;
  return (
    <section className="confirm-run" aria-label="confirm materialization" role="dialog">
      <p className="confirm-summary">
        <b>{plan.summary}</b>
        {props.backfill && plan.range && ' One run per day, tracked as a backfill.'}
      </p>
      {!nothing && (
        <table aria-label="assets to materialize" className="confirm-assets">
          <thead>
            <tr>
              <th>Asset</th>
              <th className="num">Partitions</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {plan.assets.map((a) => (
              <tr key={a.name}>
                <td>
                  <code>{a.name}</code>
                </td>
                <td className="num">
                  {a.partitions === null
                    ? 'whole table'
                    : plan.range
                      ? `${count(a.partitions)} day(s)`
                      : `${count(a.partitions)} stale or missing day(s)`}
                </td>
                <td className="hint">{a.reason}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td>{count(plan.assets.length)} asset(s)</td>
              <td className="num">{count(plan.total_partitions)} asset-partition(s)</td>
              <td />
            </tr>
          </tfoot>
        </table>
      )}
      <div className="row">
        {!nothing && (
          <button type="button" className="primary" onClick={props.onConfirm} disabled={props.busy}>
            {props.busy
              ? 'Launching…'
              : `Launch ${props.backfill ? 'backfill' : 'run'} of ${count(plan.assets.length)} asset(s)`}
          </button>
        )}
        <button type="button" onClick={props.onCancel} disabled={props.busy}>
          {nothing ? 'Close' : 'Cancel'}
        </button>
      </div>
    </section>
  );
}
