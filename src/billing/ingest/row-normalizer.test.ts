import { describe, expect, it } from 'vitest';
import { SCHEMA_COLUMNS } from '../schema.js';
import type { CsvRecord } from './csv-reader.js';
import {
  type HeaderMap,
  headerProblemReason,
  mapHeader,
  type Normalized,
  normalizeRecord,
} from './row-normalizer.js';

function headerOf(fields: string[]): HeaderMap {
  const mapped = mapHeader(fields);
  if (!mapped.ok) throw new Error(headerProblemReason(mapped.problem));
  return mapped.header;
}

const HEADER = headerOf([...SCHEMA_COLUMNS]);

const TYPICAL: Record<string, string> = {
  timestamp: '2025-04-23T10:00:00Z',
  resource_id: 'res-a1b2c3',
  user_id: '1042',
  credit_usage: '12.345678',
  region: 'us-east-1',
  service_tier: 'standard',
  operation_type: 'compute',
  success: 'true',
  resource_type: 'vm',
  invoice_id: 'INV-202504-1042',
  currency: 'USD',
};
const TYPICAL_CSV =
  '2025-04-23 10:00:00.000000,"res-a1b2c3",1042,12.345678,"us-east-1","standard","compute",true,"vm",' +
  '"INV-202504-1042","USD"';

function record(fields: string[], extra: Partial<CsvRecord> = {}): CsvRecord {
  return { line: 2, fields, raw: fields.join(','), ...extra };
}

/** Normalizes the typical row with some columns replaced. */
function normalizeWith(overrides: Record<string, string>): Normalized {
  const values = { ...TYPICAL, ...overrides };
  return normalizeRecord(record(SCHEMA_COLUMNS.map((c) => values[c] ?? '')), HEADER);
}

/** The CSV value written for one column of the typical row with that column replaced. */
function encoded(column: string, value: string): string | undefined {
  const result = normalizeWith({ [column]: value });
  if (!result.ok) return undefined;
  return result.csv.split(',')[SCHEMA_COLUMNS.indexOf(column as never)];
}

function reasonFor(column: string, value: string): string | undefined {
  const result = normalizeWith({ [column]: value });
  return result.ok ? undefined : result.reason;
}

describe('mapHeader', () => {
  it('maps the schema columns in order', () => {
    const mapped = mapHeader([...SCHEMA_COLUMNS]);
    expect(mapped).toEqual({
      ok: true,
      header: {
        indexes: Object.fromEntries(SCHEMA_COLUMNS.map((c, i) => [c, i])),
        fieldCount: 11,
      },
    });
  });

  it('matches names case-insensitively after trimming, in any order, ignoring extra columns', () => {
    const fields = [
      ' Currency',
      'note',
      'INVOICE_ID',
      'resource_type ',
      'Success',
      'operation_type',
      'SERVICE_TIER',
    ];
    fields.push('\tregion\t', 'credit_usage', 'User_Id', 'resource_id', 'extra', 'TimeStamp');
    const header = headerOf(fields);
    expect(header.fieldCount).toBe(13);
    expect(header.indexes).toEqual({
      timestamp: 12,
      resource_id: 10,
      user_id: 9,
      credit_usage: 8,
      region: 7,
      service_tier: 6,
      operation_type: 5,
      success: 4,
      resource_type: 3,
      invoice_id: 2,
      currency: 0,
    });
  });

  it('ignores repeated unknown columns but refuses a schema column named twice', () => {
    const header = headerOf([...SCHEMA_COLUMNS, 'note', 'NOTE']);
    expect(header.fieldCount).toBe(13);
    const twice = mapHeader([...SCHEMA_COLUMNS, ' Credit_Usage']);
    expect(twice).toEqual({
      ok: false,
      problem: { kind: 'duplicated', column: 'credit_usage', positions: [3, 11] },
    });
    if (twice.ok) return;
    expect(headerProblemReason(twice.problem)).toBe(
      'column credit_usage appears 2 times in the header (columns 4, 12): the file is ambiguous; keep one',
    );
  });

  it('lists missing columns in schema order', () => {
    expect(mapHeader(['currency', 'success', 'foo', 'resource_id', 'region', 'service_tier'])).toEqual({
      ok: false,
      problem: {
        kind: 'missing',
        columns: ['timestamp', 'user_id', 'credit_usage', 'operation_type', 'resource_type', 'invoice_id'],
      },
    });
    expect(mapHeader([])).toEqual({ ok: false, problem: { kind: 'missing', columns: [...SCHEMA_COLUMNS] } });
    expect(mapHeader(['time stamp', ...SCHEMA_COLUMNS.slice(1)])).toEqual({
      ok: false,
      problem: { kind: 'missing', columns: ['timestamp'] },
    });
  });
});

describe('normalizeRecord: layout', () => {
  it('encodes a typical row in schema order', () => {
    expect(normalizeWith({})).toEqual({ ok: true, csv: TYPICAL_CSV });
  });

  it('reorders columns through the header and ignores extra columns', () => {
    const header = headerOf(['note', ...[...SCHEMA_COLUMNS].reverse(), 'more']);
    const fields = ['n', ...SCHEMA_COLUMNS.map((c) => TYPICAL[c] ?? '').reverse(), 'm'];
    expect(normalizeRecord(record(fields), header)).toEqual({ ok: true, csv: TYPICAL_CSV });
  });

  it('rejects a record the reader could not parse, with its error', () => {
    const result = normalizeRecord(record([], { error: 'unterminated quoted field' }), HEADER);
    expect(result).toEqual({ ok: false, reason: 'unterminated quoted field' });
  });

  it('rejects a field count different from the header', () => {
    const fields = SCHEMA_COLUMNS.map((c) => TYPICAL[c] ?? '');
    expect(normalizeRecord(record([...fields, 'x']), HEADER)).toEqual({
      ok: false,
      reason: 'expected 11 fields as in the header, found 12',
    });
    expect(normalizeRecord(record(fields.slice(1)), HEADER)).toEqual({
      ok: false,
      reason: 'expected 11 fields as in the header, found 10',
    });
    const wide = headerOf([...SCHEMA_COLUMNS, 'extra']);
    expect(normalizeRecord(record(fields), wide)).toEqual({
      ok: false,
      reason: 'expected 12 fields as in the header, found 11',
    });
  });

  it('applies the rules in order: the first failing one wins', () => {
    const bad = { timestamp: 'x', user_id: 'y', credit_usage: 'z', success: 'w' };
    expect(normalizeWith(bad)).toEqual({ ok: false, reason: 'timestamp "x" is not an ISO-8601 date-time' });
    const { timestamp: _t, ...rest } = bad;
    expect(normalizeWith(rest)).toEqual({ ok: false, reason: 'user_id "y" is not an integer' });
    expect(normalizeWith({ credit_usage: 'z', success: 'w' })).toEqual({
      ok: false,
      reason: 'credit_usage "z" is not a decimal number',
    });
    expect(normalizeWith({ success: 'w' })).toEqual({
      ok: false,
      reason: 'success "w" is not a boolean (true/false, 1/0, yes/no, t/f, y/n)',
    });
  });

  it('truncates long values in reasons and shows control characters', () => {
    const reason = reasonFor('user_id', '9'.repeat(500)) ?? '';
    expect(reason).toBe(`user_id "${'9'.repeat(40)}…" does not fit in a signed 64-bit integer`);
    expect(reason.length).toBeLessThanOrEqual(100);
    expect(reasonFor('success', 'ok\n')).toBe(
      'success "ok\\n" is not a boolean (true/false, 1/0, yes/no, t/f, y/n)',
    );
    const escaped = reasonFor('credit_usage', '\u0001'.repeat(40)) ?? '';
    expect(escaped.startsWith('credit_usage "\\u0001\\u0001')).toBe(true);
    expect(escaped.endsWith('…" is not a decimal number')).toBe(true);
    expect(escaped.length).toBeLessThanOrEqual(100);
  });
});

describe('normalizeRecord: timestamp', () => {
  it('writes the UTC instant unquoted', () => {
    expect(encoded('timestamp', ' 2025-01-01T01:30:00.5+02:00 ')).toBe('2024-12-31 23:30:00.500000');
    expect(encoded('timestamp', '2024-02-29 07:05')).toBe('2024-02-29 07:05:00.000000');
  });

  it('names the column, the value and the problem', () => {
    expect(reasonFor('timestamp', '')).toBe('timestamp is empty');
    expect(reasonFor('timestamp', '   ')).toBe('timestamp is empty');
    expect(reasonFor('timestamp', '2025-04-23')).toBe('timestamp "2025-04-23" is not an ISO-8601 date-time');
    expect(reasonFor('timestamp', '2025-02-29T00:00:00')).toBe(
      'timestamp "2025-02-29T00:00:00" is not a valid calendar date',
    );
    expect(reasonFor('timestamp', '2025-01-01T24:00')).toBe(
      'timestamp "2025-01-01T24:00" is not a valid time of day',
    );
    expect(reasonFor('timestamp', '2025-01-01T10:00+19:00')).toBe(
      'timestamp "2025-01-01T10:00+19:00" has a UTC offset beyond ±18:00',
    );
  });
});

describe('normalizeRecord: user_id', () => {
  it.each([
    ['1042', '1042'],
    [' 1042 ', '1042'],
    ['+7', '7'],
    ['-7', '-7'],
    ['007', '7'],
    ['-000', '0'],
    ['0', '0'],
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['00009223372036854775807', '9223372036854775807'],
  ])('%j -> %s', (input, expected) => {
    expect(encoded('user_id', input)).toBe(expected);
  });

  it.each(['1.0', '1e3', '0x10', 'abc', '--1', '+', '-', '1 000', '1_000', '١٢'])(
    '%j is not an integer',
    (input) => {
      expect(reasonFor('user_id', input)).toBe(`user_id ${JSON.stringify(input)} is not an integer`);
    },
  );

  it.each(['9223372036854775808', '-9223372036854775809', '10000000000000000000', '99999999999999999999'])(
    '%j overflows BIGINT',
    (input) => {
      expect(reasonFor('user_id', input)).toBe(`user_id "${input}" does not fit in a signed 64-bit integer`);
    },
  );

  it('rejects an empty user_id', () => {
    expect(reasonFor('user_id', '')).toBe('user_id is empty');
    expect(reasonFor('user_id', ' \t')).toBe('user_id is empty');
  });
});

describe('normalizeRecord: credit_usage', () => {
  it.each([
    ['12.345678', '12.345678'],
    ['0.000001', '0.000001'],
    ['1.123456', '1.123456'],
    ['-0012.50', '-12.5'],
    ['+3.000', '3'],
    ['5.', '5'],
    ['.5', '0.5'],
    ['-.25', '-0.25'],
    ['0', '0'],
    ['-0.000', '0'],
    ['+0', '0'],
    ['0.10', '0.1'],
    ['100', '100'],
    [' 7.25\t', '7.25'],
    ['999999999999.999999', '999999999999.999999'],
    ['-999999999999.999999', '-999999999999.999999'],
    ['0000000000000000001.5', '1.5'],
  ])('%j -> %s', (input, expected) => {
    expect(encoded('credit_usage', input)).toBe(expected);
  });

  it('rejects more than 6 fraction digits, even trailing zeros', () => {
    expect(reasonFor('credit_usage', '1.1234567')).toBe(
      'credit_usage "1.1234567" has more than 6 fraction digits',
    );
    expect(reasonFor('credit_usage', '1.0000000')).toBe(
      'credit_usage "1.0000000" has more than 6 fraction digits',
    );
  });

  it('rejects more than 12 integer digits', () => {
    expect(reasonFor('credit_usage', '1000000000000')).toBe(
      'credit_usage "1000000000000" has more than 12 integer digits',
    );
    expect(reasonFor('credit_usage', '-1234567890123.5')).toBe(
      'credit_usage "-1234567890123.5" has more than 12 integer digits',
    );
  });

  it.each(['.', '-', '+', '-.', '1e5', '1,5', '0x10', 'NaN', 'Infinity', '1.2.3', '1 2', '--1', '$5', '½'])(
    '%j is not a decimal',
    (input) => {
      expect(reasonFor('credit_usage', input)).toBe(
        `credit_usage ${JSON.stringify(input)} is not a decimal number`,
      );
    },
  );

  it('rejects an empty credit_usage', () => {
    expect(reasonFor('credit_usage', '')).toBe('credit_usage is empty');
    expect(reasonFor('credit_usage', '  ')).toBe('credit_usage is empty');
  });
});

describe('normalizeRecord: success', () => {
  it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', 't', 'T', 'y', 'Y', ' true ', '\tyes'])(
    '%j is true',
    (input) => {
      expect(encoded('success', input)).toBe('true');
    },
  );

  it.each(['false', 'FALSE', 'False', '0', 'no', 'No', 'f', 'F', 'n', 'N', ' 0 '])('%j is false', (input) => {
    expect(encoded('success', input)).toBe('false');
  });

  it.each(['maybe', '2', '01', 'yess', 'tru', 'on', 'off', 'truee', 'null'])(
    '%j is not a boolean',
    (input) => {
      expect(reasonFor('success', input)).toBe(
        `success "${input}" is not a boolean (true/false, 1/0, yes/no, t/f, y/n)`,
      );
    },
  );

  it('rejects an empty success', () => {
    expect(reasonFor('success', '')).toBe('success is empty');
  });
});

describe('normalizeRecord: text columns', () => {
  it('quotes values and doubles embedded quotes', () => {
    expect(encoded('region', 'us-east-1')).toBe('"us-east-1"');
    const result = normalizeWith({ resource_id: 'a "b", c', currency: '"' });
    expect(result).toEqual({
      ok: true,
      csv:
        '2025-04-23 10:00:00.000000,"a ""b"", c",1042,12.345678,"us-east-1","standard","compute",true,"vm",' +
        '"INV-202504-1042",""""',
    });
  });

  it('writes empty and whitespace-only values as NULL (empty unquoted field)', () => {
    const result = normalizeWith({ resource_id: '', region: '   ', currency: '\t', invoice_id: '\u00a0' });
    expect(result).toEqual({
      ok: true,
      csv: '2025-04-23 10:00:00.000000,,1042,12.345678,,"standard","compute",true,"vm",,',
    });
  });

  it('keeps other values verbatim, including surrounding spaces and line breaks', () => {
    expect(encoded('region', ' us-east-1 ')).toBe('" us-east-1 "');
    expect(encoded('service_tier', '\u00e9t\u00e9 \u{1F600}')).toBe('"\u00e9t\u00e9 \u{1F600}"');
    const result = normalizeWith({ operation_type: 'multi\nline' });
    expect(result.ok && result.csv.includes(',"multi\nline",')).toBe(true);
  });
});
