import { ident } from '../../warehouse/warehouse.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';

/** The statements that maintain one aggregate table, generated from its definition. */
export interface AggregateSql {
  create: string;
  /** Fills temp table `affected_keys` with the groups to rebuild. $1/$2: change ids (exclusive/inclusive); $3/$4: forced day range or NULLs. */
  collectAffected: string;
  collectAll: string;
  deleteAffected: string;
  deleteAll: string;
  insertAffected: string;
  insertAll: string;
  /** For daily aggregates: the affected days with their event counts, for the ledger. */
  affectedPartitions: string;
  /** The same table under a temp name, to compare column lists with an existing table. */
  createProbe: string;
  probeName: string;
}

/**
 * Path-day partitions of billing_events held back by failed error checks (`withheld_partitions`) and
 * those that were held back last time but not now, or the reverse (`toggled_partitions`): the
 * groups their events touch are rebuilt. Both temp tables exist (maybe empty) while an aggregate builds.
 */
export const PARTITION_TABLES = ['withheld_partitions', 'toggled_partitions'] as const;
export const CREATE_PARTITION_TABLE = (name: string) =>
  `CREATE OR REPLACE TEMP TABLE ${name} (year INTEGER, month INTEGER, day INTEGER)`;
export const INSERT_PARTITION = (name: string) =>
  `INSERT INTO ${name} VALUES (year(CAST($1 AS DATE)), month(CAST($1 AS DATE)), day(CAST($1 AS DATE)))`;

/** Columns of two tables, for spotting an aggregate whose definition gained or changed columns. */
export const TABLE_COLUMNS = `SELECT table_name, column_name, data_type FROM duckdb_columns()
  WHERE table_name IN ($1, $2) ORDER BY table_name, column_index`;

export function aggregateSql(def: AggregateDefinition): AggregateSql {
  const table = ident(def.name);
  const keyColumns = def.keys.map((k) => ident(k.column)).join(', ');
  const matches = (alias: string, column: (k: AggregateDefinition['keys'][number]) => string) =>
    def.keys.map((k) => `a.${ident(k.column)} IS NOT DISTINCT FROM ${alias}.${column(k)}`).join(' AND ');
  const select = `SELECT ${def.keys.map((k) => `e.${ident(k.column)} AS ${ident(k.as)}`).join(', ')},
      ${def.measures}
    FROM billing_events e
      ANTI JOIN withheld_partitions w ON e.year = w.year AND e.month = w.month AND e.day = w.day`;
  const groupBy = `GROUP BY ${def.keys.map((k) => `e.${ident(k.column)}`).join(', ')}`;
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (
      ${def.keys.map((k) => `${ident(k.as)} ${k.type}`).join(',\n      ')},
      ${def.columns}
    )`,
    collectAffected: `CREATE OR REPLACE TEMP TABLE affected_keys AS
      SELECT DISTINCT ${keyColumns} FROM billing_event_changes WHERE change_id > $1 AND change_id <= $2
      UNION
      SELECT DISTINCT ${keyColumns} FROM billing_events
        WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)
      UNION
      SELECT DISTINCT ${def.keys.map((k) => `e.${ident(k.column)}`).join(', ')} FROM billing_events e
        SEMI JOIN toggled_partitions t ON e.year = t.year AND e.month = t.month AND e.day = t.day`,
    collectAll: `CREATE OR REPLACE TEMP TABLE affected_keys AS SELECT DISTINCT ${keyColumns} FROM billing_events`,
    deleteAffected: `DELETE FROM ${table} t
      WHERE EXISTS (SELECT 1 FROM affected_keys a WHERE ${matches('t', (k) => ident(k.as))})`,
    deleteAll: `DELETE FROM ${table}`,
    insertAffected: `INSERT INTO ${table} ${select}
      SEMI JOIN affected_keys a ON ${matches('e', (k) => ident(k.column))}
      ${groupBy}`,
    insertAll: `INSERT INTO ${table} ${select} ${groupBy}`,
    affectedPartitions: `SELECT CAST(a.${ident(def.keys[0]?.column ?? 'event_date')} AS VARCHAR) AS partition,
        coalesce(t.event_count, 0) AS event_count
      FROM affected_keys a LEFT JOIN ${table} t ON t.${ident(def.keys[0]?.as ?? 'day')} = a.${ident(def.keys[0]?.column ?? 'event_date')}
      ORDER BY 1`,
    createProbe: `CREATE OR REPLACE TEMP TABLE ${ident(`${def.name}__expected`)} (
      ${def.keys.map((k) => `${ident(k.as)} ${k.type}`).join(',\n      ')},
      ${def.columns}
    )`,
    probeName: `${def.name}__expected`,
  };
}
