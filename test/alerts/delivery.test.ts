import { describe, expect, it } from 'vitest';
import { sendTestAlert } from '../../src/alerts/alert-service.js';
import { backoffCeiling, backoffDelay } from '../../src/alerts/backoff.js';
import { deliverDue } from '../../src/alerts/deliver.js';
import { verifySignature } from '../../src/alerts/signing.js';
import { alertsConfig, alertWarehouse, channel, queueEvent, startReceiver } from './delivery-support.js';

const T0 = Date.parse('2026-12-03T10:00:00.000Z');
const MINUTE = 60_000;

describe('backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000 };

  it('grows exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeiling(n, options))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('full jitter stays within [0, ceiling] and follows the injected random', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const delay = backoffDelay(attempt, { ...options, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(backoffCeiling(attempt, options));
      }
    }
    expect(backoffDelay(3, { ...options, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(9, { ...options, random: () => 0.999 })).toBe(999);
  });

  it('equal jitter keeps at least half the ceiling; decorrelated stays in [initial, min(cap, 3 × previous)]', () => {
    expect(backoffDelay(4, { ...options, jitter: 'equal', random: () => 0 })).toBe(400);
    expect(backoffDelay(4, { ...options, jitter: 'equal', random: () => 0.999 })).toBe(800);
    let previous = 100;
    for (let attempt = 1; attempt <= 10; attempt++) {
      const delay = backoffDelay(
        attempt,
        { ...options, jitter: 'decorrelated', random: () => 0.9 },
        previous,
      );
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(Math.min(1000, previous * 3));
      previous = delay;
    }
    expect(previous).toBe(1000);
  });
});

describe('deliverDue', () => {
  it('retries a receiver that fails three times and delivers the alert once, signed, with every attempt recorded', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver((n) => (n < 3 ? 500 : 200));
    const config = alertsConfig([channel({ url: receiver.url, secret: 's3cret' })]);
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'ops', at: T0 });

    // Each pass runs a minute later than the last: past any backoff (max_delay_ms 200).
    const reports = [];
    for (let pass = 0; pass < 6; pass++)
      reports.push(await deliverDue(warehouse, { config, now: new Date(T0 + pass * MINUTE) }));
    expect(reports.map((r) => r.attempted)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(reports.map((r) => r.delivered)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(reports[5]?.nextDueAt).toBeNull();

    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    const accepted = receiver.requests.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(1);
    const [ok] = accepted;
    expect(ok?.headers['x-billing-alert-event']).toBe('evt-1');
    expect(ok?.headers['content-type']).toBe('application/json');
    expect(verifySignature(ok?.body ?? '', 's3cret', ok?.headers['x-billing-signature'] as string)).toBe(
      true,
    );
    expect(verifySignature(ok?.body ?? '', 'other', ok?.headers['x-billing-signature'] as string)).toBe(
      false,
    );
    const body = JSON.parse(ok?.body ?? '{}');
    expect(body).toMatchObject({
      event_id: 'evt-1',
      kind: 'fired',
      alert: { id: 'alert-1', rule: 'budget_threshold', threshold: '80', state: 'open' },
    });
    expect(body.sent_at).toMatch(/^2026-12-03T10:03:00\.\d{3}Z$/);

    const attempts = await warehouse.all(
      'SELECT attempt, status, http_status, error, next_attempt_at IS NOT NULL AS retry FROM alert_deliveries ORDER BY attempt',
    );
    expect(attempts).toEqual([
      { attempt: 1, status: 'failed', http_status: 500, error: 'HTTP 500: status 500', retry: true },
      { attempt: 2, status: 'failed', http_status: 500, error: 'HTTP 500: status 500', retry: true },
      { attempt: 3, status: 'failed', http_status: 500, error: 'HTTP 500: status 500', retry: true },
      { attempt: 4, status: 'delivered', http_status: 200, error: null, retry: false },
    ]);
    const [outbox] = await warehouse.all(
      'SELECT status, attempts, claimed_until, delivered_at IS NOT NULL AS delivered, last_error FROM alert_outbox',
    );
    expect(outbox).toEqual({
      status: 'delivered',
      attempts: 4,
      claimed_until: null,
      delivered: true,
      last_error: null,
    });
  });

  it('waits out the backoff: a pass before the next attempt is due sends nothing', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 503);
    const config = alertsConfig([channel({ url: receiver.url })], {
      initial_delay_ms: 10_000,
      max_delay_ms: 10_000,
    });
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'ops', at: T0 });
    const first = await deliverDue(warehouse, { config, now: new Date(T0), random: () => 0.5 });
    expect(first).toMatchObject({ attempted: 1, retrying: 1 });
    // Full jitter with random 0.5: 5 s after the attempt finished.
    expect(first.nextDueAt?.getTime()).toBeGreaterThanOrEqual(T0 + 5000);
    expect(first.nextDueAt?.getTime()).toBeLessThan(T0 + 6000);
    expect((await deliverDue(warehouse, { config, now: new Date(T0 + 4000) })).attempted).toBe(0);
    expect((await deliverDue(warehouse, { config, now: new Date(T0 + 7000) })).attempted).toBe(1);
    expect(receiver.requests).toHaveLength(2);
  });

  it('fails at once on a 4xx other than 429, with the status in the error', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 404);
    const config = alertsConfig([channel({ url: receiver.url })]);
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'ops', at: T0 });
    const report = await deliverDue(warehouse, { config, now: new Date(T0) });
    expect(report).toMatchObject({ attempted: 1, failed: 1, retrying: 0, nextDueAt: null });
    expect(await deliverDue(warehouse, { config, now: new Date(T0 + MINUTE) })).toMatchObject({
      attempted: 0,
    });
    expect(receiver.requests).toHaveLength(1);
    expect(await warehouse.all('SELECT status, attempts, last_error FROM alert_outbox')).toEqual([
      { status: 'failed', attempts: 1, last_error: 'HTTP 404: status 404' },
    ]);
  });

  it('sends nothing unsigned when the secret variable is missing: the attempt fails with why, and retries', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 200);
    const problem = 'channels.0.secret_env: HOOK_SECRET is not set in this process';
    const config = alertsConfig([channel({ url: receiver.url, secretProblem: problem })]);
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'ops', at: T0 });
    expect(await deliverDue(warehouse, { config, now: new Date(T0) })).toMatchObject({
      attempted: 1,
      retrying: 1,
    });
    expect(receiver.requests).toHaveLength(0);
    expect(await warehouse.all('SELECT status, error FROM alert_deliveries')).toEqual([
      { status: 'failed', error: problem },
    ]);
    expect(await warehouse.all('SELECT status FROM alert_outbox')).toEqual([{ status: 'pending' }]);
  });

  it('retries 429 and network errors, and gives up after max_attempts', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 429);
    await receiver.close();
    const refused = channel({ name: 'down', url: receiver.url });
    const limited = await startReceiver(() => 429);
    const config = alertsConfig([refused, channel({ name: 'busy', url: limited.url })], { max_attempts: 3 });
    await queueEvent(warehouse, { eventId: 'evt-down', alertId: 'alert-1', channel: 'down', at: T0 });
    await queueEvent(warehouse, { eventId: 'evt-busy', alertId: 'alert-1', channel: 'busy', at: T0 });
    for (let pass = 0; pass < 5; pass++)
      await deliverDue(warehouse, { config, now: new Date(T0 + pass * MINUTE) });
    expect(limited.requests).toHaveLength(3);
    const outbox = await warehouse.all(
      'SELECT channel, status, attempts, last_error FROM alert_outbox ORDER BY channel',
    );
    expect(outbox).toEqual([
      {
        channel: 'busy',
        status: 'failed',
        attempts: 3,
        last_error: 'HTTP 429: status 429 (gave up after 3 attempts)',
      },
      {
        channel: 'down',
        status: 'failed',
        attempts: 3,
        last_error: expect.stringMatching(/^request failed: .*ECONNREFUSED.*gave up after 3 attempts/),
      },
    ]);
    const counts = await warehouse.all(
      'SELECT channel, count(*) AS attempts, count(http_status) AS answered FROM alert_deliveries GROUP BY channel ORDER BY channel',
    );
    expect(counts).toEqual([
      { channel: 'busy', attempts: 3, answered: 3 },
      { channel: 'down', attempts: 3, answered: 0 },
    ]);
  });

  it('posts the Slack form { text, blocks } to a slack channel', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 200);
    const config = alertsConfig([channel({ name: 'chat', type: 'slack', url: receiver.url })]);
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'chat', at: T0 });
    expect(await deliverDue(warehouse, { config, now: new Date(T0) })).toMatchObject({ delivered: 1 });
    const body = JSON.parse(receiver.requests[0]?.body ?? '{}');
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe(
      '[FIRED warning] Budget platform-monthly passed 80 % (40,120.50 USD of 50,000.00 USD)',
    );
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: `*${body.text}*` } });
    expect(body.blocks[1].fields).toContainEqual({ type: 'mrkdwn', text: '*Threshold*\n80 %' });
    expect(receiver.requests[0]?.headers['x-billing-alert-event']).toBe('evt-1');
    expect(receiver.requests[0]?.headers['x-billing-signature']).toBeUndefined();
  });

  it('sends a resolved event only after the fired one of the same alert and channel', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver((n) => (n === 0 ? 500 : 200));
    const config = alertsConfig([channel({ url: receiver.url })]);
    await queueEvent(warehouse, { eventId: 'evt-fired', alertId: 'alert-1', channel: 'ops', at: T0 });
    await queueEvent(warehouse, {
      eventId: 'evt-resolved',
      alertId: 'alert-1',
      channel: 'ops',
      at: T0 + 1,
      kind: 'resolved',
    });
    await deliverDue(warehouse, { config, now: new Date(T0 + 10) });
    await deliverDue(warehouse, { config, now: new Date(T0 + MINUTE) });
    await deliverDue(warehouse, { config, now: new Date(T0 + 2 * MINUTE) });
    expect(receiver.requests.map((r) => [r.headers['x-billing-alert-event'], r.status])).toEqual([
      ['evt-fired', 500],
      ['evt-fired', 200],
      ['evt-resolved', 200],
    ]);
  });

  it('never sends a leased event twice: a second pass while the first is in flight skips it', async () => {
    const warehouse = await alertWarehouse();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const receiver = await startReceiver(() => 200);
    const config = alertsConfig([channel({ url: receiver.url })]);
    await queueEvent(warehouse, { eventId: 'evt-1', alertId: 'alert-1', channel: 'ops', at: T0 });
    let calls = 0;
    const slowFetch = async (url: string, init: RequestInit) => {
      calls++;
      await gate;
      return fetch(url, init);
    };
    const first = deliverDue(warehouse, { config, now: new Date(T0), fetch: slowFetch });
    while (calls === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await deliverDue(warehouse, { config, now: new Date(T0 + 1000), fetch: slowFetch })).toMatchObject(
      { attempted: 0 },
    );
    release();
    expect(await first).toMatchObject({ delivered: 1 });
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('sendTestAlert', () => {
  it('queues one test event per channel that takes the rule, delivered by the normal path', async () => {
    const warehouse = await alertWarehouse();
    const receiver = await startReceiver(() => 200);
    const config = alertsConfig([
      channel({ name: 'ops', url: receiver.url }),
      channel({ name: 'budgets-only', type: 'slack', url: receiver.url, rules: ['budget_threshold'] }),
    ]);
    const [id] = await sendTestAlert(warehouse, config, 'run_failed', undefined, new Date(T0));
    expect(await sendTestAlert(warehouse, config, 'run_failed', 'budgets-only', new Date(T0))).toHaveLength(
      1,
    );
    await expect(sendTestAlert(warehouse, config, 'run_failed', 'nope')).rejects.toThrow(
      /no alert channel named nope \(configured: ops, budgets-only\)/,
    );
    expect(await deliverDue(warehouse, { config, now: new Date(T0) })).toMatchObject({
      attempted: 2,
      delivered: 2,
    });
    const webhook = receiver.requests.find((r) => r.headers['x-billing-alert-event'] === id);
    expect(JSON.parse(webhook?.body ?? '{}')).toMatchObject({
      event_id: id,
      kind: 'test',
      alert: { rule: 'run_failed', scope: 'test' },
    });
    expect(await warehouse.all('SELECT kind, channel, status FROM alert_outbox ORDER BY channel')).toEqual([
      { kind: 'test', channel: 'budgets-only', status: 'delivered' },
      { kind: 'test', channel: 'ops', status: 'delivered' },
    ]);
  });
});
