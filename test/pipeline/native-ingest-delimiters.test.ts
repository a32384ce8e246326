import { describe, expect, it } from 'vitest';
import { csv, HEADER, row, testPipeline } from '../support/pipeline.js';

const DAY = 'year=2025/month=04/day=23';

/** Everything a row carries but its file's key. */
const EVENT = `SELECT source_line, "timestamp", resource_id, user_id, credit_usage, region, service_tier,
  operation_type, success, resource_type, invoice_id, currency, event_date, normalized_credit_usage
  FROM billing_events WHERE source_key = `;

describe('delimiters (issue 13)', () => {
  it('loads the same data from ; tab and | files as from the comma file, rejected rows included', async () => {
    const p = await testPipeline('delimiters');
    const rows = [
      row({ user_id: '1' }),
      row({ user_id: '2', credit_usage: '-0.5', success: 'no', resource_id: 'a b' }),
      row({ user_id: 'u3' }), // rejected, on line 4 of every file
      row({ user_id: '4', timestamp: '2025-04-23T01:30:00+02:00', currency: 'EUR' }),
    ];
    const comma = csv(...rows);
    const names = { semicolon: ';', tab: '\t', pipe: '|' } as const;
    await p.put(`${DAY}/comma.csv`, comma);
    for (const [name, d] of Object.entries(names))
      await p.put(`${DAY}/${name}.csv`, comma.replaceAll(',', d));
    expect((await p.materialize()).status).toBe('success');

    const expected = await p.rows(`${EVENT}'${DAY}/comma.csv' ORDER BY source_line`);
    expect(expected.map((e) => e.user_id)).toEqual([1, 2, 4]);
    const rejected = `SELECT line_number, reason FROM rejected_rows WHERE source_key = `;
    const expectedRejects = await p.rows(`${rejected}'${DAY}/comma.csv'`);
    expect(expectedRejects).toEqual([{ line_number: 4, reason: 'user_id "u3" is not an integer' }]);
    for (const name of Object.keys(names)) {
      expect(await p.rows(`${EVENT}'${DAY}/${name}.csv' ORDER BY source_line`), name).toEqual(expected);
      expect(await p.rows(`${rejected}'${DAY}/${name}.csv'`), name).toEqual(expectedRejects);
    }
    expect(await p.rows('SELECT count(*) AS n FROM rejected_files')).toEqual([{ n: 0 }]);
  });

  it('names the delimiter when a header cannot be split into the schema columns', async () => {
    const p = await testPipeline('delimiter-reasons');
    // A spreadsheet's ; export with translated column names: no delimiter finds the schema.
    await p.put(`${DAY}/translated.csv`, 'horodatage;utilisateur;montant\n2025-04-23;1;2\n');
    await p.put(`${DAY}/partial.csv`, `${HEADER.replace('currency', 'devise').replaceAll(',', ';')}\n`);
    expect((await p.materialize()).status).toBe('success');
    expect(await p.rows('SELECT source_key, reason FROM rejected_files ORDER BY source_key')).toEqual([
      {
        source_key: `${DAY}/partial.csv`,
        reason:
          'missing required column(s): currency (the header must name all 11 schema columns); the header was split on semicolon (;)',
      },
      {
        source_key: `${DAY}/translated.csv`,
        reason:
          'missing required column(s): timestamp, resource_id, user_id, credit_usage, region, service_tier, operation_type, success, resource_type, invoice_id, currency (the header must name all 11 schema columns); the header was split on comma (,); it also contains semicolon (;)',
      },
    ]);
  });
});
