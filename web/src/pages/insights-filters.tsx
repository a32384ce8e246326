import { DateInput } from '../components/ui.js';
import { addDays } from '../format.js';
import { setQuery } from '../router.js';
import { DIMENSIONS, type Dimension, type Filters, type InsightOptions } from '../types.js';

const LABELS: Record<Dimension, string> = {
  region: 'Region',
  service_tier: 'Tier',
  operation_type: 'Operation',
  resource_type: 'Resource type',
  currency: 'Currency',
  user_id: 'User',
};

const PLURALS: Record<Dimension, string> = {
  region: 'regions',
  service_tier: 'tiers',
  operation_type: 'operations',
  resource_type: 'resource types',
  currency: 'currencies',
  user_id: 'users',
};

export function RangePicker(props: { filters: Filters; options: InsightOptions | null }) {
  const last = props.options?.last_day ?? null;
  const preset = (days: number | null) =>
    setQuery({
      from: days && last ? addDays(last, -(days - 1)) : null,
      to: days && last ? last : null,
      drill: null,
      day: null,
      file: null,
    });
  const active = (days: number | null) =>
    days === null
      ? !props.filters.from && !props.filters.to
      : last !== null && props.filters.to === last && props.filters.from === addDays(last, -(days - 1));
  return (
    <fieldset className="row" aria-label="date range">
      {([7, 30, 90, null] as const).map((d) => (
        <button
          key={String(d)}
          type="button"
          className={`chip ${active(d) ? 'on' : ''}`}
          onClick={() => preset(d)}
          disabled={!last}
        >
          {d === null ? 'All time' : `Last ${d} days`}
        </button>
      ))}
      <DateInput
        label="from"
        value={props.filters.from}
        max={props.filters.to ?? last}
        onChange={(day) => setQuery({ from: day, drill: null, day: null, file: null })}
      />
      <span className="hint">to</span>
      <DateInput
        label="to"
        value={props.filters.to}
        min={props.filters.from}
        onChange={(day) => setQuery({ to: day, drill: null, day: null, file: null })}
      />
    </fieldset>
  );
}

export function FilterBar(props: { filters: Filters; options: InsightOptions | null }) {
  const selectable: Dimension[] = ['region', 'service_tier', 'operation_type', 'resource_type', 'currency'];
  const active = DIMENSIONS.filter((d) => props.filters[d]);
  return (
    <div className="row">
      {selectable.map((d) => (
        <select
          key={d}
          aria-label={`filter by ${LABELS[d]}`}
          value={props.filters[d] ?? ''}
          onChange={(e) => setQuery({ [d]: e.target.value || null, drill: null, day: null, file: null })}
        >
          <option value="">{`All ${PLURALS[d]}`}</option>
          {(props.options?.values[d] ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      ))}
      {active.map((d) => (
        <button
          key={d}
          type="button"
          className="chip on"
          onClick={() => setQuery({ [d]: null })}
          title="Remove this filter"
        >
          {LABELS[d]}: {props.filters[d]} ✕
        </button>
      ))}
      {active.length > 0 && (
        <button
          type="button"
          className="ghost"
          onClick={() => setQuery(Object.fromEntries(DIMENSIONS.map((d) => [d, null])))}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}
