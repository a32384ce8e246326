import { addDays } from '../../orchestrator/days.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { DEFAULT_WINDOW_DAYS, forecastPeriod } from '../budgets/forecast.js';
import * as sql from './invoice-sql.js';

/** One invoice line: a service tier, resource type and operation of one user's month. */
export interface InvoiceLine {
  serviceTier: string | null;
  resourceType: string | null;
  operationType: string | null;
  events: number;
  /** In the reporting currency; null when any event of the line lacks an FX rate. */
  amount: string | null;
  unnormalizedEvents: number;
  /** What was billed, per original currency. */
  original: { currency: string; amount: string }[];
}

export interface InvoiceRate {
  currency: string;
  rateDate: string;
  rate: string;
}

export interface InvoicePreview {
  user: string;
  month: string;
  /** The reporting currency every `amount` is in. */
  currency: string;
  /** The last day counted (the warehouse's last data day within the month); null before the month has data. */
  asOf: string | null;
  lines: InvoiceLine[];
  total: { amount: string | null; unknownEvents: number; complete: boolean };
  /** Whole-month estimate while the month is open; null once the data reaches its last day. */
  forecast: { total: string; low: string; high: string } | null;
  rates: InvoiceRate[];
  warnings: string[];
}

export interface InvoiceRequest {
  user: string;
  month: string;
}

/** Validation result: the request normalized, or one message per bad field. */
export type ParsedInvoiceRequest =
  | { ok: true; request: InvoiceRequest }
  | { ok: false; errors: { field: 'user' | 'month'; message: string }[] };

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const USER = /^-?\d{1,19}$/;
const MAX_BIGINT = 2n ** 63n - 1n;
/** Placeholder for an event without a currency: its amount must still be shown on its own. */
export const NO_CURRENCY = '(no currency)';

export function parseInvoiceRequest(input: { user?: unknown; month?: unknown }): ParsedInvoiceRequest {
  const errors: { field: 'user' | 'month'; message: string }[] = [];
  const user = typeof input.user === 'string' ? input.user.trim() : input.user;
  const month = typeof input.month === 'string' ? input.month.trim() : input.month;
  if (user === undefined || user === '')
    errors.push({ field: 'user', message: 'user is required, e.g. 1042' });
  else if (
    typeof user !== 'string' ||
    !USER.test(user) ||
    BigInt(user) > MAX_BIGINT ||
    BigInt(user) < -MAX_BIGINT - 1n
  )
    errors.push({
      field: 'user',
      message: `user ${JSON.stringify(user)} is not a user id (an integer, e.g. 1042)`,
    });
  if (month === undefined || month === '')
    errors.push({ field: 'month', message: 'month is required as YYYY-MM, e.g. 2026-11' });
  else if (typeof month !== 'string' || !MONTH.test(month))
    errors.push({
      field: 'month',
      message: `month ${JSON.stringify(month)} is not a month like 2026-11 (YYYY-MM)`,
    });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, request: { user: BigInt(user as string).toString(), month: month as string } };
}

/** First and last day of a YYYY-MM month. */
export function monthDays(month: string): { first: string; last: string } {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, mon, 0)).getUTCDate();
  return { first: `${month}-01`, last: `${month}-${String(last).padStart(2, '0')}` };
}

interface LineRow {
  service_tier: string | null;
  resource_type: string | null;
  operation_type: string | null;
  events: number;
  amount: string | null;
  unnormalized_events: number;
}

type KeyRow = Pick<LineRow, 'service_tier' | 'resource_type' | 'operation_type'>;
const lineKey = (r: KeyRow) => JSON.stringify([r.service_tier, r.resource_type, r.operation_type]);

/**
 * The user's month to date, read from billing_events: lines, total, rates used, and (for an open
 * month) a forecast over the user's daily spend. Read-only, so it runs on any session, a daemon's
 * remote warehouse included.
 */
export async function invoicePreview(
  db: Pick<SqlSession, 'all'>,
  request: InvoiceRequest,
  options: { reportingCurrency: string },
): Promise<InvoicePreview> {
  const { user, month } = request;
  const { first, last } = monthDays(month);
  const params = [user, first, last];
  const [lineRows, originalRows, [totalRow], rateRows, [dataDay]] = await Promise.all([
    db.all<LineRow>(sql.INVOICE_LINES, params),
    db.all<KeyRow & { currency: string | null; amount: string }>(sql.INVOICE_LINE_ORIGINALS, params),
    db.all<{
      events: number;
      amount: string | null;
      known_amount: string | null;
      unnormalized_events: number;
    }>(sql.INVOICE_TOTAL, params),
    db.all<{
      currency: string | null;
      rate_date: string | null;
      rate: string | null;
      first_day: string;
      days: number;
    }>(sql.INVOICE_RATES, [...params, options.reportingCurrency]),
    db.all<{ day: string | null }>(sql.LAST_DATA_DAY),
  ]);

  const originals = new Map<string, { currency: string; amount: string }[]>();
  for (const r of originalRows) {
    const key = lineKey(r);
    originals.set(key, [
      ...(originals.get(key) ?? []),
      { currency: r.currency ?? NO_CURRENCY, amount: r.amount },
    ]);
  }
  const lines: InvoiceLine[] = lineRows.map((r) => ({
    serviceTier: r.service_tier,
    resourceType: r.resource_type,
    operationType: r.operation_type,
    events: Number(r.events),
    amount: r.amount,
    unnormalizedEvents: Number(r.unnormalized_events),
    original: originals.get(lineKey(r)) ?? [],
  }));

  const warnings: string[] = [];
  const events = Number(totalRow?.events ?? 0);
  const unknownEvents = Number(totalRow?.unnormalized_events ?? 0);
  if (events === 0) warnings.push(`user ${user} has no events in ${month}`);
  if (unknownEvents > 0) {
    warnings.push(
      `${unknownEvents} event(s) have no ${options.reportingCurrency} amount (no FX rate): the total is unknown; ` +
        `the lines with a known amount sum to ${totalRow?.known_amount ?? '0.000000'} ${options.reportingCurrency}`,
    );
  }
  const rates: InvoiceRate[] = [];
  for (const r of rateRows) {
    const currency = r.currency ?? NO_CURRENCY;
    if (r.rate === null || r.rate_date === null) {
      warnings.push(
        `no FX rate for ${currency} on ${r.days} day(s) from ${r.first_day}: set one in the FX source (BILLING_FX_SOURCE)`,
      );
    } else {
      rates.push({ currency, rateDate: r.rate_date, rate: r.rate });
    }
  }

  const lastDataDay = dataDay?.day ?? null;
  // Days compare as YYYY-MM-DD text: the month to date ends at the month's end or the data's.
  const asOf = lastDataDay === null || lastDataDay < first ? null : ([lastDataDay, last].sort()[0] ?? null);
  return {
    user,
    month,
    currency: options.reportingCurrency,
    asOf,
    lines,
    total: {
      amount: unknownEvents > 0 ? null : (totalRow?.amount ?? '0.000000'),
      unknownEvents,
      complete: unknownEvents === 0,
    },
    forecast: asOf !== null && asOf < last ? await monthForecast(db, { user, first, last, asOf }) : null,
    rates,
    warnings,
  };
}

/**
 * The month's whole total by helper B's run-rate forecast, trained on the user's own daily spend
 * (the window reaches back before the month). A day the aggregates hold as NULL is unknown, and
 * estimated, never counted as zero.
 */
async function monthForecast(
  db: Pick<SqlSession, 'all'>,
  window: { user: string; first: string; last: string; asOf: string },
): Promise<InvoicePreview['forecast']> {
  const from = addDays(window.first, -DEFAULT_WINDOW_DAYS);
  const history = await db.all<{ day: string; amount: string | null }>(sql.USER_DAILY_SPEND, [
    window.user,
    from,
    window.asOf,
  ]);
  const forecast = forecastPeriod({
    history,
    periodStart: window.first,
    periodEnd: window.last,
    asOf: window.asOf,
  });
  // Every day of the window lacks a rate: nothing to learn from, so no forecast (not a zero one).
  if (forecast.unknown) return null;
  return { total: forecast.total, low: forecast.low, high: forecast.high };
}
