import { describe, expect, it, onTestFinished } from 'vitest';
import { ALERT_SCHEMA } from '../../src/alerts/alert-sql.js';
import { deliverDue } from '../../src/alerts/deliver.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import { freshPostgresDatabase } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { alertsConfig, channel, queueEvent, startReceiver } from './delivery-support.js';

const T0 = Date.parse('2026-12-03T10:00:00.000Z');

describe.skipIf(!postgresAvailable())('alert delivery on PostgreSQL', () => {
  it('two processes delivering at once never send one event twice', async () => {
    const url = await freshPostgresDatabase();
    const a = await openWarehouse({ databaseUrl: url, path: '' });
    const b = await openWarehouse({ databaseUrl: url, path: '' });
    onTestFinished(async () => {
      await a.close();
      await b.close();
    });
    for (const statement of ALERT_SCHEMA) await a.exec(statement);
    // Slow enough that both passes overlap on every batch.
    const receiver = await startReceiver(() => 200);
    const config = alertsConfig([channel({ url: receiver.url })]);
    for (let i = 0; i < 12; i++)
      await queueEvent(a, { eventId: `evt-${i}`, alertId: `alert-${i}`, channel: 'ops', at: T0 + i });
    const slow = async (u: string, init: RequestInit) => {
      await new Promise((r) => setTimeout(r, 20));
      return fetch(u, init);
    };
    const now = new Date(T0 + 60_000);
    const [ra, rb] = await Promise.all([
      deliverDue(a, { config, now, fetch: slow, concurrency: 2 }),
      deliverDue(b, { config, now, fetch: slow, concurrency: 2 }),
    ]);
    expect((ra?.delivered ?? 0) + (rb?.delivered ?? 0)).toBe(12);
    const ids = receiver.requests.map((r) => r.headers['x-billing-alert-event']).sort();
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect(await a.all("SELECT count(*) AS n FROM alert_outbox WHERE status = 'delivered'")).toEqual([
      { n: 12 },
    ]);
    expect(
      await a.all('SELECT count(*) AS n, count(DISTINCT event_id) AS events FROM alert_deliveries'),
    ).toEqual([{ n: 12, events: 12 }]);
  });
});
