import { count } from '../format.js';
import { useGet } from '../hooks.js';

const LISTED = 8;

/**
 * The FX notice: which event days and currencies have no rate, so their amounts in the reporting
 * currency are unknown, and what to set. Nothing when every event has a rate. Shown on the
 * dashboard and on the pages of the assets that carry normalized amounts.
 */
export function FxNotice() {
  const { data } = useGet('/api/insights/fx', {}, { pollMs: 15000 });
  if (!data || data.unnormalized_events === 0) return null;
  const { setting, currencies, missing } = data;
  const codes = currencies.map((c) => c.currency).join(', ');
  const where = `set ${setting.variable} (or ${setting.config_key} in ${setting.config_file})`;
  const days = new Set(missing.map((m) => m.day)).size;
  return (
    <div className="banner warn" role="alert" aria-label="FX rates notice">
      {data.source_configured ? (
        <b>
          FX rates missing for {currencies.length} {currencies.length === 1 ? 'currency' : 'currencies'} on{' '}
          {days} {days === 1 ? 'day' : 'days'} — add them to {data.source}
        </b>
      ) : (
        <b>
          {currencies.length} {currencies.length === 1 ? 'currency has' : 'currencies have'} no rates
          configured — {where}
        </b>
      )}
      <div>
        {count(data.unnormalized_events)} events in {codes} have no rate to {data.reporting_currency}: their{' '}
        {data.reporting_currency} amounts, and every total that includes them, show as unknown. Counts and
        per-currency totals are complete.
        {data.source_configured && ` Or ${where} to another rate file.`}
      </div>
      {data.source_configured && (
        <ul className="fx-missing" aria-label="days without rates">
          {missing.slice(0, LISTED).map((m) => (
            <li key={`${m.day}-${m.currency}`}>
              <span className="mono">{m.day}</span> {m.currency}: {count(m.events)} events
            </li>
          ))}
          {missing.length > LISTED && <li>and {missing.length - LISTED} more</li>}
        </ul>
      )}
    </div>
  );
}
