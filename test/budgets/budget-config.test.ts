import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  budgetsFromRecorded,
  loadFileBudgets,
  recordedBudgets,
  validateBudgetInput,
} from '../../src/billing/budgets/budget-config.js';
import { loadConfig } from '../../src/config.js';
import { tmpDir } from '../support/tmp.js';

const YAML = `source: ./data
budgets:
  - id: platform
    scope: all
    period: monthly
    amount: 50000
  - id: eu
    scope: { region: eu-west-1 }
    period: { from: 2026-01-01, to: 2026-03-31 }
    amount: "1250.5"
    thresholds: [80, 100]
`;

async function project(text: string) {
  const dir = await tmpDir('budget-config');
  await writeFile(path.join(dir, 'billing-pipeline.yaml'), text);
  const config = loadConfig(
    { BILLING_CONFIG: path.join(dir, 'billing-pipeline.yaml') },
    { home: path.join(dir, 'home') },
  );
  return loadFileBudgets({ setting: config.budgetsSetting, configFile: config.configFile });
}

describe('budgets in billing-pipeline.yaml', () => {
  it('parses inline budgets with their line, defaults and canonical shape', async () => {
    const budgets = await project(YAML);
    expect(budgets).toEqual([
      {
        id: 'platform',
        name: 'platform',
        scope: { kind: 'all' },
        period: { kind: 'monthly' },
        amount: '50000',
        thresholds: [50, 80, 100],
        origin: 'file',
        declaredAt: 'billing-pipeline.yaml:3',
      },
      {
        id: 'eu',
        name: 'eu',
        scope: { kind: 'region', value: 'eu-west-1' },
        period: { kind: 'range', from: '2026-01-01', to: '2026-03-31' },
        amount: '1250.5',
        thresholds: [80, 100],
        origin: 'file',
        declaredAt: 'billing-pipeline.yaml:7',
      },
    ]);
    // What a run records for scale-out workers comes back the same.
    expect(budgetsFromRecorded(JSON.parse(JSON.stringify(recordedBudgets(budgets))))).toEqual(budgets);
  });

  it('names the file, line and key of every problem, and a duplicate id', async () => {
    const bad = YAML.replace('amount: 50000', 'amount: -5')
      .replace('[80, 100]', '[100, 80]')
      .replace('id: eu', 'id: platform');
    const error = await project(bad).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('billing-pipeline.yaml:6: budgets[0].amount: expected a positive amount');
    expect(message).toContain(
      'billing-pipeline.yaml:11: budgets[1].thresholds: thresholds must be strictly ascending',
    );
  });

  it('reports a duplicate id with both places', async () => {
    const error = await project(YAML.replace('id: eu', 'id: platform')).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      'billing-pipeline.yaml:7: budgets[1].id: "platform" is already declared at billing-pipeline.yaml:3',
    );
  });

  it('validates API bodies with per-field errors', () => {
    expect(
      validateBudgetInput({
        id: 'x',
        scope: { user: 'abc' },
        period: { from: '2026-02-30', to: '2026-01-01' },
        amount: '1.1234567',
      }),
    ).toEqual({
      ok: false,
      errors: [
        { path: 'scope.user', message: 'a user id is an integer' },
        { path: 'period.from', message: 'expected a day YYYY-MM-DD' },
        {
          path: 'amount',
          message: 'expected a positive amount with at most 6 decimals, e.g. "50000" or 1250.5',
        },
      ],
    });
    const ok = validateBudgetInput({ scope: { user: 1042 }, period: 'monthly', amount: 10 }, 'u-1042');
    expect(ok).toMatchObject({
      ok: true,
      budget: { id: 'u-1042', scope: { kind: 'user', value: '1042' }, amount: '10', origin: 'api' },
    });
    expect(
      validateBudgetInput({ id: 'other', scope: 'all', period: 'monthly', amount: 1 }, 'u-1042'),
    ).toMatchObject({ ok: false, errors: [{ path: 'id' }] });
  });

  it('takes all spend and calendar months when scope and period are left out, and names missing fields', () => {
    expect(validateBudgetInput({ id: 'platform', amount: 50000 })).toMatchObject({
      ok: true,
      budget: { scope: { kind: 'all' }, period: { kind: 'monthly' }, thresholds: [50, 80, 100] },
    });
    expect(validateBudgetInput({ amount: 1 })).toEqual({
      ok: false,
      errors: [{ path: 'id', message: 'is required' }],
    });
  });
});
