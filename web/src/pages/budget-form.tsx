import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiError } from '../api.js';
import {
  type Budget,
  type BudgetInput,
  type BudgetScopeKind,
  type BudgetWrite,
  createBudget,
  fieldErrors,
  toInput,
  updateBudget,
} from '../budget-api.js';
import { isIsoDay } from '../components/ui.js';
import { useAction } from '../hooks.js';

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/**
 * Only the shape of a number is checked here; its rules (> 0, at most 6 decimals) are the server's,
 * whose message is shown beside the field, so the two can never disagree.
 */
const NUMBER = /^[-+]?\d+(\.\d+)?$/;
const SCOPES: { kind: BudgetScopeKind; label: string }[] = [
  { kind: 'all', label: 'Everything' },
  { kind: 'user', label: 'One user' },
  { kind: 'region', label: 'One region' },
  { kind: 'service_tier', label: 'One service tier' },
  { kind: 'resource_type', label: 'One resource type' },
];

interface Draft {
  id: string;
  name: string;
  scopeKind: BudgetScopeKind;
  scopeValue: string;
  periodKind: 'monthly' | 'range';
  from: string;
  to: string;
  amount: string;
  thresholds: string;
}

function draftOf(budget: Budget | null): Draft {
  if (!budget) {
    return {
      id: '',
      name: '',
      scopeKind: 'all',
      scopeValue: '',
      periodKind: 'monthly',
      from: '',
      to: '',
      amount: '',
      thresholds: '50, 80, 100',
    };
  }
  const input = toInput(budget);
  return {
    id: input.id,
    name: input.name ?? '',
    scopeKind: budget.scope.kind,
    scopeValue: budget.scope.kind === 'all' ? '' : budget.scope.value,
    periodKind: budget.period.kind,
    from: budget.period.kind === 'range' ? budget.period.from : '',
    to: budget.period.kind === 'range' ? budget.period.to : '',
    amount: budget.amount,
    thresholds: budget.thresholds.join(', '),
  };
}

function parseThresholds(text: string): number[] | null {
  const parts = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const values = parts.map(Number);
  return values.every((v) => Number.isInteger(v)) ? values : null;
}

/** The client's checks: what a person can fix before asking the server. */
function check(draft: Draft): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!ID.test(draft.id)) errors.id = 'lowercase letters, digits, - and _; starts with a letter or digit';
  if (draft.scopeKind !== 'all' && !draft.scopeValue.trim()) errors.scope = 'which one?';
  if (draft.periodKind === 'range') {
    if (!isIsoDay(draft.from) || !isIsoDay(draft.to)) errors.period = 'two days as YYYY-MM-DD';
    else if (draft.from > draft.to) errors.period = 'the first day comes after the last';
  }
  if (!NUMBER.test(draft.amount.trim())) errors.amount = 'a number, e.g. 50000 or 1250.50';
  const thresholds = parseThresholds(draft.thresholds);
  if (!thresholds) errors.thresholds = 'whole percents separated by commas, e.g. 50, 80, 100';
  return errors;
}

function inputOf(draft: Draft): BudgetInput {
  return {
    id: draft.id,
    ...(draft.name.trim() ? { name: draft.name.trim() } : {}),
    scope: draft.scopeKind === 'all' ? 'all' : { [draft.scopeKind]: draft.scopeValue.trim() },
    period: draft.periodKind === 'monthly' ? 'monthly' : { from: draft.from, to: draft.to },
    amount: draft.amount.trim(),
    thresholds: parseThresholds(draft.thresholds) ?? [],
  };
}

/** Where a server error with no field path belongs. */
function errorsOf(error: ApiError): Record<string, string> {
  const fields = fieldErrors(error.details);
  if (Object.keys(fields).length > 0) return fields;
  if (error.code === 'budget_exists') return { id: error.message };
  return { form: error.message };
}

/** New budget (editing = null) or Edit of an API budget; the server's 400 details land beside their fields. */
export function BudgetForm(props: {
  editing: Budget | null;
  currency: string;
  onDone(result: BudgetWrite): void;
  onCancel(): void;
}) {
  const [draft, setDraft] = useState(() => draftOf(props.editing));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useAction();
  const set = (changes: Partial<Draft>) => setDraft((d) => ({ ...d, ...changes }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local = check(draft);
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    const editing = props.editing;
    try {
      const result = editing
        ? await updateBudget(editing.id, inputOf(draft))
        : await createBudget(inputOf(draft));
      props.onDone(result);
    } catch (caught) {
      setErrors(caught instanceof ApiError ? errorsOf(caught) : { form: String(caught) });
    }
  };
  const field = (name: string, label: string, control: ReactNode) => (
    <div className="budget-field" data-field-name={name}>
      <span>{label}</span>
      {control}
      {errors[name] && (
        <span className="field-error" role="alert" data-field={name}>
          {errors[name]}
        </span>
      )}
    </div>
  );
  return (
    <form
      className="budget-form card stack"
      aria-label={props.editing ? `edit budget ${props.editing.id}` : 'new budget'}
      onSubmit={(e) => void action.run(() => submit(e))}
      noValidate
    >
      <h2>{props.editing ? `Edit ${props.editing.name}` : 'New budget'}</h2>
      {errors.form && (
        <div className="banner" role="alert">
          {errors.form}
        </div>
      )}
      <div className="budget-form-grid">
        {field(
          'id',
          'Id',
          <input
            aria-label="id"
            value={draft.id}
            disabled={props.editing !== null}
            aria-invalid={Boolean(errors.id)}
            onChange={(e) => set({ id: e.target.value.trim() })}
            placeholder="platform-monthly"
          />,
        )}
        {field(
          'name',
          'Name',
          <input
            aria-label="name"
            value={draft.name}
            onChange={(e) => set({ name: e.target.value })}
            placeholder="optional"
          />,
        )}
        {field(
          'scope',
          'Scope',
          <span className="row">
            <select
              aria-label="scope"
              value={draft.scopeKind}
              onChange={(e) => set({ scopeKind: e.target.value as BudgetScopeKind })}
            >
              {SCOPES.map((s) => (
                <option key={s.kind} value={s.kind}>
                  {s.label}
                </option>
              ))}
            </select>
            {draft.scopeKind !== 'all' && (
              <input
                aria-label="scope value"
                aria-invalid={Boolean(errors.scope)}
                value={draft.scopeValue}
                onChange={(e) => set({ scopeValue: e.target.value })}
                placeholder={draft.scopeKind === 'user' ? '1042' : ''}
              />
            )}
          </span>,
        )}
        {field(
          'period',
          'Period',
          <span className="row">
            <select
              aria-label="period"
              value={draft.periodKind}
              onChange={(e) => set({ periodKind: e.target.value as Draft['periodKind'] })}
            >
              <option value="monthly">Every calendar month</option>
              <option value="range">Fixed days</option>
            </select>
            {draft.periodKind === 'range' && (
              <>
                <input
                  aria-label="first day"
                  placeholder="YYYY-MM-DD"
                  size={11}
                  value={draft.from}
                  onChange={(e) => set({ from: e.target.value.trim() })}
                />
                <input
                  aria-label="last day"
                  placeholder="YYYY-MM-DD"
                  size={11}
                  value={draft.to}
                  onChange={(e) => set({ to: e.target.value.trim() })}
                />
              </>
            )}
          </span>,
        )}
        {field(
          'amount',
          `Amount (${props.currency})`,
          <input
            aria-label="amount"
            inputMode="decimal"
            aria-invalid={Boolean(errors.amount)}
            value={draft.amount}
            onChange={(e) => set({ amount: e.target.value })}
            placeholder="50000"
          />,
        )}
        {field(
          'thresholds',
          'Alert thresholds (%)',
          <input
            aria-label="thresholds"
            aria-invalid={Boolean(errors.thresholds)}
            value={draft.thresholds}
            onChange={(e) => set({ thresholds: e.target.value })}
          />,
        )}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={action.pending}>
          {props.editing ? 'Save budget' : 'Create budget'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
