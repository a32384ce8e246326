import { describe, expect, it } from 'vitest';
import type { SpendAnomalySettings } from '../../src/billing/checks/quality-config.js';
import { spendAnomaliesSql, spendAnomalyMaintenance } from '../../src/billing/sql/spend-anomalies.js';
import { addDays } from '../../src/orchestrator/days.js';
import type { Runtime } from '../../src/runtime.js';
import { testPipeline } from '../support/pipeline.js';
import { seededRandom } from '../support/random.js';

// Loose thresholds and a short window: many rows are flagged, so a stale or missing one shows.
const SETTINGS: SpendAnomalySettings = {
  window_days: 4,
  min_history_days: 2,
  max_robust_z: 1,
  min_relative_change: 0.2,
  min_spend: '0',
  min_deviation: '0',
};
const FIRST = '2025-04-01';
const DAYS = Array.from({ length: 16 }, (_, i) => addDays(FIRST, i));
const USERS = [1, 2, 3, 4];
const REGIONS = ['us-east-1', 'eu-west-1', null];

const sqlText = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
/** A spend, sometimes unknown (a rate missing): unknown days are neither scored nor history. */
const spend = (r: () => number) =>
  r() < 0.1 ? 'NULL' : `CAST('${(Math.floor(r() * 200_000_000) / 1_000_000).toFixed(6)}' AS DECIMAL(38,6))`;

async function putUser(runtime: Runtime, r: () => number, day: string, user: number) {
  await runtime.warehouse.exec(
    `DELETE FROM user_daily_aggregates WHERE day = '${day}' AND user_id = ${user}`,
  );
  await runtime.warehouse.exec(
    `INSERT INTO user_daily_aggregates VALUES (CAST('${day}' AS DATE), ${user}, 1, 0, ${spend(r)}, 0)`,
  );
}
async function putRegion(runtime: Runtime, r: () => number, day: string, region: string | null) {
  await runtime.warehouse.exec(
    `DELETE FROM region_daily_aggregates WHERE day = '${day}' AND region IS NOT DISTINCT FROM ${sqlText(region)}`,
  );
  await runtime.warehouse.exec(
    `INSERT INTO region_daily_aggregates VALUES (CAST('${day}' AS DATE), ${sqlText(region)}, 1, 0, ${spend(r)}, 0)`,
  );
}

const ORDERED = 'ORDER BY entity_type, entity, day';

describe('incremental spend anomalies', () => {
  it('equal a full rebuild after random changes of the daily series, a removed day and a late day', async () => {
    const p = await testPipeline('anomalies-incremental', { fx: null });
    const runtime = await p.open();
    const r = seededRandom(20261203);
    const m = spendAnomalyMaintenance(SETTINGS, true);
    const run = (statements: readonly string[]) =>
      runtime.warehouse.transaction(async (tx) => {
        for (const statement of statements) await tx.exec(statement);
      });
    const compare = async (context: string) => {
      await run([
        'DROP TABLE IF EXISTS expected_anomalies',
        spendAnomaliesSql(SETTINGS, true, 'expected_anomalies'),
      ]);
      const expected = await runtime.warehouse.all(`SELECT * FROM expected_anomalies ${ORDERED}`);
      const actual = await runtime.warehouse.all(`SELECT * FROM insights_spend_anomalies ${ORDERED}`);
      expect(actual, context).toEqual(expected);
      return expected.length;
    };
    try {
      await runtime.warehouse.exec('DELETE FROM user_daily_aggregates');
      await runtime.warehouse.exec('DELETE FROM region_daily_aggregates');
      // The latest days stay out at first: they arrive later, one of them late (after its successor).
      for (const day of DAYS.slice(0, 12)) {
        for (const user of USERS) if (r() < 0.85) await putUser(runtime, r, day, user);
        for (const region of REGIONS) if (r() < 0.85) await putRegion(runtime, r, day, region);
      }
      await run(m.setup);
      await run(m.full);
      expect(await compare('the full build')).toBeGreaterThan(5);

      const ops: string[] = [];
      const steps = [
        'day 13',
        'day 15',
        'day 14',
        'remove',
        'change',
        'change',
        'unknown',
        'change',
        'remove',
      ];
      for (const step of steps) {
        if (step.startsWith('day ')) {
          const day = DAYS[Number(step.slice(4)) - 1] as string;
          for (const user of USERS) await putUser(runtime, r, day, user);
          for (const region of REGIONS) await putRegion(runtime, r, day, region);
          ops.push(`add ${day}`);
        } else if (step === 'remove') {
          const day = DAYS[Math.floor(r() * DAYS.length)] as string;
          await runtime.warehouse.exec(`DELETE FROM user_daily_aggregates WHERE day = '${day}'`);
          await runtime.warehouse.exec(`DELETE FROM region_daily_aggregates WHERE day = '${day}'`);
          ops.push(`remove ${day}`);
        } else {
          for (let i = 0; i < 3; i++) {
            const day = DAYS[Math.floor(r() * DAYS.length)] as string;
            if (r() < 0.5) {
              const user = USERS[Math.floor(r() * USERS.length)] as number;
              if (step === 'unknown') {
                await runtime.warehouse.exec(
                  `UPDATE user_daily_aggregates SET total_normalized_credit_usage = NULL WHERE day = '${day}' AND user_id = ${user}`,
                );
              } else await putUser(runtime, r, day, user);
              ops.push(`${step} ${day} user ${user}`);
            } else {
              const region = REGIONS[Math.floor(r() * REGIONS.length)] ?? null;
              await putRegion(runtime, r, day, region);
              ops.push(`${step} ${day} region ${region}`);
            }
          }
        }
        await run(m.incremental ?? []);
        await compare(ops.join('; '));
      }
      // Nothing changed: nothing is rescored, and the rows stay.
      const before = await runtime.warehouse.all(`SELECT * FROM insights_spend_anomalies ${ORDERED}`);
      await run(m.incremental ?? []);
      expect(await runtime.warehouse.all(`SELECT * FROM insights_spend_anomalies ${ORDERED}`)).toEqual(
        before,
      );
    } finally {
      await runtime.close();
    }
  }, 120_000);

  it('are rebuilt from scratch when the rule changes', async () => {
    const narrow = spendAnomalyMaintenance({ ...SETTINGS, window_days: 3 }, true);
    const wide = spendAnomalyMaintenance(SETTINGS, true);
    expect(narrow.version).not.toBe(wide.version);
    expect(spendAnomalyMaintenance(SETTINGS, false).incremental).toBeNull();
  });
});
