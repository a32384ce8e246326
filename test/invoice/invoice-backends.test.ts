import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type InvoicePreview, invoicePreview } from '../../src/billing/invoice/invoice-preview.js';
import { csv, row, type TestBackend, testPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

/**
 * The invoice preview's SQL on both warehouses: the same files give the same preview, to the
 * digit, on DuckDB and on PostgreSQL (the rates' as-of lookup, the NULL-unless-complete sums,
 * the casts and the per-currency originals).
 */

const FX =
  'date,currency,rate\n2000-01-01,EUR,1.0850000000\n2025-04-22,JPY,0.0066500000\n2025-04-24,JPY,0.0067000000\n';
const at = (day: string, overrides: Partial<Record<string, string>>) =>
  row({ timestamp: `2025-04-${day}T08:30:00Z`, ...overrides });

async function previews(backend: TestBackend): Promise<Record<string, InvoicePreview>> {
  const dir = await tmpDir(`invoice-${backend}`);
  const fxPath = path.join(dir, 'rates.csv');
  await writeFile(fxPath, FX);
  const p = await testPipeline(`invoice-${backend}`, { backend, fx: fxPath });
  await p.put(
    'year=2025/month=04/day=21/a.csv',
    csv(
      at('21', { user_id: '7', currency: 'JPY', credit_usage: '1000' }),
      at('21', { user_id: '7', currency: 'USD', credit_usage: '0.000001', operation_type: 'read' }),
      at('21', { user_id: '8', currency: 'EUR', credit_usage: '99.999999' }),
      at('21', { user_id: 'x' }),
    ),
  );
  await p.put(
    'year=2025/month=04/day=23/a.csv',
    csv(
      at('23', { user_id: '7', currency: 'JPY', credit_usage: '1000' }),
      at('23', { user_id: '7', currency: 'EUR', credit_usage: '2.5', service_tier: 'premium' }),
    ),
  );
  await p.put(
    'year=2025/month=04/day=25/a.csv',
    csv(
      at('25', { user_id: '7', currency: 'JPY', credit_usage: '3000' }),
      at('25', { user_id: '8', credit_usage: '1' }),
    ),
  );
  await p.materialize();
  const runtime = await p.open();
  try {
    expect(runtime.warehouse.dialect).toBe(backend);
    const out: Record<string, InvoicePreview> = {};
    for (const [user, month] of [
      ['7', '2025-04'],
      ['8', '2025-04'],
      ['9', '2025-04'],
      ['7', '2025-03'],
    ] as const) {
      out[`${user}/${month}`] = await invoicePreview(
        runtime.warehouse,
        { user, month },
        { reportingCurrency: 'USD' },
      );
    }
    return out;
  } finally {
    await runtime.close();
  }
}

describe.skipIf(!postgresAvailable())('invoice preview on DuckDB and PostgreSQL', () => {
  it('gives the same preview, to the digit, on both warehouses', async () => {
    const [duck, pg] = await Promise.all([previews('duckdb'), previews('postgres')]);
    expect(pg).toEqual(duck);
    const seven = duck['7/2025-04'];
    // The JPY event of 04-21 predates the first JPY rate (04-22): its line is unknown.
    expect(
      seven?.lines.map((l) => [l.serviceTier, l.operationType, l.events, l.amount, l.unnormalizedEvents]),
    ).toEqual([
      ['premium', 'compute', 1, '2.712500', 0],
      ['standard', 'compute', 3, null, 1],
      ['standard', 'read', 1, '0.000001', 0],
    ]);
    expect(seven?.total).toEqual({ amount: null, unknownEvents: 1, complete: false });
    expect(seven?.rates).toEqual([
      { currency: 'EUR', rateDate: '2000-01-01', rate: '1.0850000000' },
      { currency: 'JPY', rateDate: '2025-04-22', rate: '0.0066500000' },
      { currency: 'JPY', rateDate: '2025-04-24', rate: '0.0067000000' },
    ]);
    expect(seven?.asOf).toBe('2025-04-25');
    expect(seven?.forecast).not.toBeNull();
    // 99.999999 EUR × 1.085 = 108.49999892 → 108.499999; + 1 USD
    expect(duck['8/2025-04']?.total).toEqual({ amount: '109.499999', unknownEvents: 0, complete: true });
    expect(duck['9/2025-04']?.lines).toEqual([]);
    expect(duck['7/2025-03']).toMatchObject({ lines: [], forecast: null, asOf: '2025-03-31' });
  });
});
