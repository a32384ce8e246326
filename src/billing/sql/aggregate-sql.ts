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
}

export function aggregateSql(def: AggregateDefinition): AggregateSql {
  const table = ident(def.name);
  const keyColumns = def.keys.map((k) => ident(k.column)).join(', ');
  const matches = (alias: string, column: (k: AggregateDefinition['keys'][number]) => string) =>
    def.keys.map((k) => `a.${ident(k.column)} IS NOT DISTINCT FROM ${alias}.${column(k)}`).join(' AND ');
  const select = `SELECT ${def.keys.map((k) => `e.${ident(k.column)} AS ${ident(k.as)}`).join(', ')},
      ${def.measures}
    FROM billing_events e`;
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
        WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)`,
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
  };
}
