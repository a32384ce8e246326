import { ident } from '../../warehouse/warehouse.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';

/**
 * The statements that maintain one aggregate table, generated from its definition. Portable SQL:
 * the same text runs on DuckDB and PostgreSQL (temp tables are created and dropped inside one
 * transaction, as PostgreSQL's live on the writer connection).
 */
export interface AggregateSql {
  create: string;
  /** Fills temp table `affected_keys` with the groups to rebuild. $1/$2: change ids (exclusive/inclusive); $3/$4: forced day range or NULLs. */
  collectAffected: string;
  collectAll: string;
  deleteAffected: string;
  deleteAll: string;
  /** Rebuild statements when no partition is held back, and `…Withheld` leaving out `withheld_partitions`. */
  insertAffected: string;
  insertAll: string;
  insertAffectedWithheld: string;
  insertAllWithheld: string;
  /** For daily aggregates: the affected days with their event counts, for the ledger. */
  affectedPartitions: string;
  /** The same table under a temp name, to compare column lists with an existing table. */
  createProbe: string;
  probeName: string;
  /** Only for aggregates keyed by the event day (`dayColumn` not null): one day's rebuild. */
  day: DaySql | null;
}

/** One event day of a day-keyed aggregate; `$1`: the day (`YYYY-MM-DD`). */
export interface DaySql {
  /** The key column of the day in the aggregate table. */
  dayColumn: string;
  deleteDay: string;
  insertDay: string;
  insertDayWithheld: string;
  /** Groups and events of the day after its rebuild, for the ledger. */
  dayCounts: string;
}

/**
 * Days an incremental rebuild touches: `$1`/`$2` change ids (exclusive/inclusive), `$3`/`$4` forced
 * day range or NULLs, plus the event days of `toggled_partitions`. Full: every day with events and
 * every day the table still has (a day whose events are all gone must be emptied).
 */
export const AFFECTED_DAYS = `SELECT CAST(day AS VARCHAR) AS day FROM (
    SELECT event_date AS day FROM billing_event_changes WHERE change_id > $1 AND change_id <= $2
    UNION
    SELECT event_date FROM billing_events WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)
    UNION
    SELECT e.event_date FROM billing_events e
    WHERE EXISTS (SELECT 1 FROM toggled_partitions t WHERE e.year = t.year AND e.month = t.month AND e.day = t.day)
  ) d WHERE day IS NOT NULL ORDER BY 1`;
export const allDays = (table: string, dayColumn: string) => `SELECT CAST(day AS VARCHAR) AS day FROM (
    SELECT event_date AS day FROM billing_events UNION SELECT ${ident(dayColumn)} FROM ${ident(table)}
  ) d WHERE day IS NOT NULL ORDER BY 1`;

/**
 * Path-day partitions of billing_events held back by failed error checks (`withheld_partitions`) and
 * those that were held back last time but not now, or the reverse (`toggled_partitions`): the
 * groups their events touch are rebuilt. Both temp tables exist (maybe empty) while an aggregate
 * builds, created and dropped in its transaction.
 */
export const PARTITION_TABLES = ['withheld_partitions', 'toggled_partitions'] as const;
export const CREATE_PARTITION_TABLE = (name: string) =>
  `CREATE TEMP TABLE ${name} (year INTEGER, month INTEGER, day INTEGER)`;
/** `$1`, `$2`, `$3`: year, month and day of one `YYYY-MM-DD` partition (see `partitionParams`). */
export const INSERT_PARTITION = (name: string) =>
  `INSERT INTO ${name} VALUES (CAST($1 AS INTEGER), CAST($2 AS INTEGER), CAST($3 AS INTEGER))`;
export const partitionParams = (day: string): number[] => day.split('-').map(Number);

/**
 * The change id of an aggregate's cursor (`formatCursor` in aggregate-asset.ts) in SQL: a bare
 * number, or `{"change":N,"withheld":[…]}` while partitions are withheld. Text functions both
 * warehouses share, so one CAST sees only the digits (a missing change reads as NULL).
 */
export const cursorChangeSql = (column: string) =>
  `CAST(nullif(CASE WHEN ${column} LIKE '{%'
    THEN replace(split_part(split_part(${column}, '"change":', 2), ',', 1), '}', '') ELSE ${column} END, 'null') AS BIGINT)`;

/** The column list of a table, with the warehouse's portable type names (via `query().columns`). */
export const probeColumns = (table: string) => `SELECT * FROM ${ident(table)} WHERE false`;

const NOT_WITHHELD = `NOT EXISTS (SELECT 1 FROM withheld_partitions w
      WHERE e.year = w.year AND e.month = w.month AND e.day = w.day)`;

/**
 * Key columns NOT NULL in billing_events: matched with `=`, which PostgreSQL can hash-join, where
 * `IS NOT DISTINCT FROM` (needed for the nullable ones) makes it loop.
 */
const NOT_NULL_KEYS: ReadonlySet<string> = new Set(['event_date', 'user_id']);

const DAY = 'e.event_date = CAST($1 AS DATE)';

export function aggregateSql(def: AggregateDefinition): AggregateSql {
  const table = ident(def.name);
  const keyColumns = def.keys.map((k) => ident(k.column)).join(', ');
  const matches = (alias: string, column: (k: AggregateDefinition['keys'][number]) => string) =>
    def.keys
      .map(
        (k) =>
          `a.${ident(k.column)} ${NOT_NULL_KEYS.has(k.column) ? '=' : 'IS NOT DISTINCT FROM'} ${alias}.${column(k)}`,
      )
      .join(' AND ');
  // A join, not EXISTS: affected_keys holds each key once, and DuckDB runs the join faster. The
  // withheld filter only when partitions are held back: even an empty anti-join costs DuckDB time.
  const select = (options: { affected: boolean; withheld: boolean; where?: string }) => {
    const where = [options.where, options.withheld ? NOT_WITHHELD : null].filter((w) => w);
    return `SELECT ${def.keys.map((k) => `e.${ident(k.column)} AS ${ident(k.as)}`).join(', ')},
      ${def.measures}
    FROM billing_events e${options.affected ? `\n      JOIN affected_keys a ON ${matches('e', (k) => ident(k.column))}` : ''}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    GROUP BY ${def.keys.map((k) => `e.${ident(k.column)}`).join(', ')}`;
  };
  const columns = `${def.keys.map((k) => `${ident(k.as)} ${k.type}`).join(',\n      ')},
      ${def.columns}`;
  const first = def.keys[0];
  const dayKey = first?.column === 'event_date' ? first.as : null;
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (
      ${columns}
    )`,
    collectAffected: `CREATE TEMP TABLE affected_keys AS
      SELECT DISTINCT ${keyColumns} FROM billing_event_changes WHERE change_id > $1 AND change_id <= $2
      UNION
      SELECT DISTINCT ${keyColumns} FROM billing_events
        WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)
      UNION
      SELECT DISTINCT ${def.keys.map((k) => `e.${ident(k.column)}`).join(', ')} FROM billing_events e
        WHERE EXISTS (SELECT 1 FROM toggled_partitions t WHERE e.year = t.year AND e.month = t.month AND e.day = t.day)`,
    collectAll: `CREATE TEMP TABLE affected_keys AS SELECT DISTINCT ${keyColumns} FROM billing_events`,
    deleteAffected: `DELETE FROM ${table} t
      WHERE EXISTS (SELECT 1 FROM affected_keys a WHERE ${matches('t', (k) => ident(k.as))})`,
    deleteAll: `DELETE FROM ${table}`,
    insertAffected: `INSERT INTO ${table} ${select({ affected: true, withheld: false })}`,
    insertAll: `INSERT INTO ${table} ${select({ affected: false, withheld: false })}`,
    insertAffectedWithheld: `INSERT INTO ${table} ${select({ affected: true, withheld: true })}`,
    insertAllWithheld: `INSERT INTO ${table} ${select({ affected: false, withheld: true })}`,
    affectedPartitions: `SELECT CAST(a.${ident(first?.column ?? 'event_date')} AS VARCHAR) AS partition,
        coalesce(t.event_count, 0) AS event_count
      FROM affected_keys a LEFT JOIN ${table} t ON t.${ident(first?.as ?? 'day')} = a.${ident(first?.column ?? 'event_date')}
      ORDER BY 1`,
    createProbe: `CREATE TEMP TABLE ${ident(`${def.name}__expected`)} (
      ${columns}
    )`,
    probeName: `${def.name}__expected`,
    day:
      dayKey === null
        ? null
        : {
            dayColumn: dayKey,
            deleteDay: `DELETE FROM ${table} WHERE ${ident(dayKey)} = CAST($1 AS DATE)`,
            insertDay: `INSERT INTO ${table} ${select({ affected: false, withheld: false, where: DAY })}`,
            insertDayWithheld: `INSERT INTO ${table} ${select({ affected: false, withheld: true, where: DAY })}`,
            dayCounts: `SELECT count(*) AS groups,
                ${/\bevent_count\b/.test(def.columns) ? 'coalesce(sum(event_count), 0)' : '0'} AS events
              FROM ${table} WHERE ${ident(dayKey)} = CAST($1 AS DATE)`,
          },
  };
}
