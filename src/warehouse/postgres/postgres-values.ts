import type { Cell, QueryResult, Row } from '../warehouse.js';

/**
 * PostgreSQL results in the warehouse's value contract, the one DuckDB's converter produces.
 *
 * Every value arrives as PostgreSQL's text output (the pool's type parsers return it untouched) and
 * is converted here with the column's type oid *and* type modifier: the modifier is what tells a
 * NUMERIC(18,6) column from the unconstrained NUMERIC that SUM(BIGINT) returns, and pg's per-type
 * parsers never see it. The session settings this relies on (TimeZone=UTC, DateStyle=ISO) are set
 * at connection start by the warehouse.
 */

/** What a result column tells us: pg's FieldDef has these (and more). */
export interface PgField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

type Scalar = (text: string, typmod: number) => Cell;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Integers become numbers while exact, else exact strings (as DuckDB's BIGINT/HUGEINT). */
function integerCell(text: string): Cell {
  const n = BigInt(text);
  return n <= MAX_SAFE && n >= MIN_SAFE ? Number(n) : n.toString();
}

/**
 * NUMERIC prints with its scale already ('1.500000' for NUMERIC(18,6)), matching DuckDB's DECIMAL.
 * An unconstrained NUMERIC holding a whole number is what PostgreSQL returns for SUM(BIGINT), where
 * DuckDB returns HUGEINT (a number when safe): treat it as an integer. The price: an integral
 * unconstrained NUMERIC from anything else (`7::NUMERIC`, ROUND(x, 0)) is a number too, where
 * DuckDB would have a DECIMAL with a declared scale; portable SQL declares precision and scale.
 */
function numericCell(text: string, typmod: number): Cell {
  if (typmod === -1 && /^-?\d+$/.test(text)) return integerCell(text);
  return text;
}

const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::?\d\d){0,2})?( BC)?$/;

/**
 * `2025-04-23T10:00:00.123456Z`: the same text DuckDB's converter gives (six fraction digits when
 * there is a fraction, none otherwise). TIMESTAMPTZ (printed in the session's UTC, but any offset
 * is honoured) becomes the same instant in UTC. Infinity and unparseable text pass through.
 */
export function isoFromPgTimestamp(text: string): Cell {
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac = '', offset, bc] = m;
  const micros = BigInt(frac.padEnd(6, '0'));
  const date = new Date(0);
  const year = bc ? 1 - Number(y) : Number(y);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  if (offset) date.setTime(date.getTime() - offsetMillis(offset));
  const base = date.toISOString().slice(0, 19);
  return micros === 0n ? `${base}Z` : `${base}.${frac.padEnd(6, '0')}Z`;
}

function offsetMillis(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replaceAll(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  const seconds = Number(digits.slice(4, 6) || '0');
  return sign * ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

function floatCell(text: string): Cell {
  return Number(text);
}

const text: Scalar = (value) => value;

/** Type oid → its DuckDB-style name and converter. Oids are fixed for built-in types. */
const SCALARS = new Map<number, { name: string; convert: Scalar }>([
  [16, { name: 'BOOLEAN', convert: (v) => v === 't' }],
  [17, { name: 'BLOB', convert: text }],
  [18, { name: 'VARCHAR', convert: text }],
  [19, { name: 'VARCHAR', convert: text }],
  [20, { name: 'BIGINT', convert: integerCell }],
  [21, { name: 'SMALLINT', convert: integerCell }],
  [23, { name: 'INTEGER', convert: integerCell }],
  [25, { name: 'VARCHAR', convert: text }],
  [26, { name: 'UINTEGER', convert: integerCell }],
  [114, { name: 'JSON', convert: text }],
  [700, { name: 'FLOAT', convert: floatCell }],
  [701, { name: 'DOUBLE', convert: floatCell }],
  [1042, { name: 'VARCHAR', convert: text }],
  [1043, { name: 'VARCHAR', convert: text }],
  [1082, { name: 'DATE', convert: text }],
  [1083, { name: 'TIME', convert: text }],
  [1114, { name: 'TIMESTAMP', convert: isoFromPgTimestamp }],
  [1184, { name: 'TIMESTAMP WITH TIME ZONE', convert: isoFromPgTimestamp }],
  [1186, { name: 'INTERVAL', convert: text }],
  [1700, { name: 'DECIMAL', convert: numericCell }],
  [2950, { name: 'UUID', convert: text }],
  [3802, { name: 'JSON', convert: text }],
]);

/** Array oid → element oid, for the element types above. */
const ARRAYS = new Map<number, number>([
  [1000, 16],
  [1001, 17],
  [1002, 18],
  [1003, 19],
  [1016, 20],
  [1005, 21],
  [1007, 23],
  [1009, 25],
  [1028, 26],
  [199, 114],
  [1021, 700],
  [1022, 701],
  [1014, 1042],
  [1015, 1043],
  [1182, 1082],
  [1183, 1083],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [1231, 1700],
  [2951, 2950],
  [3807, 3802],
]);

/** NUMERIC's modifier packs precision and scale; -1 means unconstrained. */
function numericName(typmod: number): string {
  if (typmod < 4) return 'DECIMAL';
  const packed = typmod - 4;
  const precision = (packed >> 16) & 0xffff;
  const scale = ((packed & 0x7ff) ^ 1024) - 1024;
  return `DECIMAL(${precision},${scale})`;
}

function scalarName(oid: number, typmod: number): string {
  if (oid === 1700) return numericName(typmod);
  return SCALARS.get(oid)?.name ?? `UNKNOWN(oid ${oid})`;
}

/**
 * The column's type as DuckDB would name it (`DECIMAL(18,6)`, `BIGINT`, `VARCHAR`, `TIMESTAMP`,
 * `INTEGER[]`), so callers that show or compare types see one vocabulary.
 */
export function columnTypeName(field: PgField): string {
  const element = ARRAYS.get(field.dataTypeID);
  if (element !== undefined) return `${scalarName(element, field.dataTypeModifier)}[]`;
  return scalarName(field.dataTypeID, field.dataTypeModifier);
}

/** Builds the converter for one result column, once per query rather than once per cell. */
export function cellConverter(field: PgField): (value: string | null) => Cell {
  const element = ARRAYS.get(field.dataTypeID);
  const typmod = field.dataTypeModifier;
  if (element !== undefined) {
    const convert = SCALARS.get(element)?.convert ?? text;
    return (value) => (value === null ? null : parseArray(value, (item) => convert(item, typmod)));
  }
  const convert = SCALARS.get(field.dataTypeID)?.convert ?? text;
  return (value) => (value === null ? null : convert(value, typmod));
}

/**
 * Parses PostgreSQL's array text (`{1,2,NULL}`, `{"a,b","c \"d\""}`, `{{1,2},{3,4}}`) into nested
 * arrays. Only `,`-delimited types reach here (box, the one `;` type, is not mapped).
 */
export function parseArray(source: string, convert: (item: string) => Cell): Cell[] {
  let i = 0;
  // A leading dimension decoration (`[0:1]={…}`) appears only for non-default lower bounds.
  if (source.startsWith('[')) i = source.indexOf('=') + 1;
  const parseLevel = (): Cell[] => {
    const items: Cell[] = [];
    i += 1; // '{'
    while (i < source.length) {
      const ch = source[i];
      if (ch === '}') {
        i += 1;
        return items;
      }
      if (ch === ',') {
        i += 1;
      } else if (ch === '{') {
        items.push(parseLevel());
      } else if (ch === '"') {
        let value = '';
        i += 1;
        while (i < source.length && source[i] !== '"') {
          if (source[i] === '\\') i += 1;
          value += source[i] ?? '';
          i += 1;
        }
        i += 1;
        items.push(convert(value));
      } else {
        const end = nextDelimiter(source, i);
        const raw = source.slice(i, end);
        i = end;
        items.push(raw === 'NULL' ? null : convert(raw));
      }
    }
    return items;
  };
  return parseLevel();
}

function nextDelimiter(source: string, from: number): number {
  for (let j = from; j < source.length; j += 1) {
    if (source[j] === ',' || source[j] === '}') return j;
  }
  return source.length;
}

/** DuckDB type names that PostgreSQL spells differently; the rest (INTEGER, DECIMAL(18,6), …) are shared. */
const PG_SPELLING: Record<string, string> = {
  DOUBLE: 'DOUBLE PRECISION',
  FLOAT: 'REAL',
  BLOB: 'BYTEA',
  TINYINT: 'SMALLINT',
  UTINYINT: 'SMALLINT',
  USMALLINT: 'INTEGER',
  UINTEGER: 'BIGINT',
  UBIGINT: 'NUMERIC(20,0)',
  HUGEINT: 'NUMERIC(38,0)',
};

/** A column type as the pipeline declares it (DuckDB's vocabulary), in PostgreSQL's. */
export function pgColumnType(type: string): string {
  return PG_SPELLING[type.trim().toUpperCase()] ?? type;
}

/** A result read in pg's array row mode (all text), as the warehouse's columns and rows. */
export function toQueryResult(fields: readonly PgField[], rows: readonly (string | null)[][]): QueryResult {
  const converters = fields.map(cellConverter);
  return {
    columns: fields.map((f) => ({ name: f.name, type: columnTypeName(f) })),
    rows: rows.map((values) => {
      const row: Row = {};
      for (let i = 0; i < fields.length; i += 1) {
        row[fields[i]?.name ?? ''] = converters[i]?.(values[i] ?? null) ?? null;
      }
      return row;
    }),
  };
}
