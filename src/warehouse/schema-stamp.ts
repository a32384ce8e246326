import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Warehouse } from './warehouse.js';

/*
 * A schema stamp lets an up-to-date warehouse skip the schema setups (about 100 statements in 14
 * transactions on every open). The setups converge: run twice with the same code on the same
 * catalog, the second run changes nothing. So after a full setup the stamp records (the code's
 * build, the setups that ran, a fingerprint of the catalog they left); an open that finds the
 * same three has nothing to set up. Anything else (a rebuilt or changed dist, another graph, a
 * dropped or altered table, index, sequence or view, a new DuckDB or PostgreSQL whose catalog
 * reads differently) runs every setup again and records anew.
 */

export const STAMP_TABLE = 'schema_stamp';
const CREATE_STAMP = `CREATE TABLE IF NOT EXISTS ${STAMP_TABLE} (stamp VARCHAR NOT NULL)`;
const READ_STAMP = `SELECT stamp FROM ${STAMP_TABLE}`;
const CLEAR_STAMP = `DELETE FROM ${STAMP_TABLE}`;
const WRITE_STAMP = `INSERT INTO ${STAMP_TABLE} (stamp) VALUES ($1)`;

const list = (expression: string, from: string, order: string) =>
  `coalesce((SELECT string_agg(${expression}, ';' ORDER BY ${order}) ${from}), '')`;

/** The persistent catalog of the current schema, in one row: whether the stamp table exists, and a hash. */
const FINGERPRINT: Record<Warehouse['dialect'], string> = {
  duckdb: `SELECT
    (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
      AND schema_name = current_schema() AND table_name = '${STAMP_TABLE}') AS has_stamp,
    md5(version() || '|' || ${list(
      `table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')`,
      'FROM duckdb_columns() WHERE NOT internal AND database_name = current_database() AND schema_name = current_schema()',
      'table_name, column_index',
    )} || '|' || ${list(
      `index_name || ' ' || coalesce(sql, '')`,
      'FROM duckdb_indexes() WHERE database_name = current_database() AND schema_name = current_schema()',
      'index_name',
    )} || '|' || ${list(
      'sequence_name',
      'FROM duckdb_sequences() WHERE database_name = current_database() AND schema_name = current_schema()',
      'sequence_name',
    )} || '|' || ${list(
      `view_name || ' ' || coalesce(sql, '')`,
      'FROM duckdb_views() WHERE NOT internal AND database_name = current_database() AND schema_name = current_schema()',
      'view_name',
    )}) AS catalog`,
  // Day partitions (relispartition) and their indexes come and go with the data, not the setups.
  postgres: `SELECT
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = '${STAMP_TABLE}') AS has_stamp,
    md5(version() || '|' || ${list(
      `c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
        || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')`,
      `FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
          AND c.relpersistence <> 't' AND a.attnum > 0 AND NOT a.attisdropped`,
      'c.relname, a.attnum',
    )} || '|' || ${list(
      `i.relname || ' ' || pg_get_indexdef(x.indexrelid)`,
      `FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema() AND NOT t.relispartition AND t.relpersistence <> 't'`,
      'i.relname',
    )} || '|' || ${list(
      'c.relname',
      `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'S'`,
      'c.relname',
    )}) AS catalog`,
};

export interface SchemaStamp {
  /** True when the setups that would run now already ran with this build on this catalog. */
  readonly upToDate: boolean;
  /** Records the stamp after a full setup (nothing when the build is unknown). */
  record(): Promise<void>;
}

/**
 * Compares the warehouse's stamp with `key` (the build and the setups, see `setupKey`); null
 * (no known build: tsx, tests) is never up to date and records nothing. Run under the setup lock.
 */
export async function schemaStamp(warehouse: Warehouse, key: string | null): Promise<SchemaStamp> {
  const fingerprint = async () => {
    const [row] = await warehouse.all<{ has_stamp: number | bigint; catalog: string }>(
      FINGERPRINT[warehouse.dialect],
    );
    return { hasStamp: Number(row?.has_stamp ?? 0) > 0, catalog: String(row?.catalog ?? '') };
  };
  if (key === null) return { upToDate: false, record: async () => {} };
  const now = await fingerprint();
  const stored = now.hasStamp ? await warehouse.all<{ stamp: string }>(READ_STAMP) : [];
  const upToDate = stored.length === 1 && stored[0]?.stamp === `${key}:${now.catalog}`;
  return {
    upToDate,
    async record() {
      await warehouse.transaction(async (tx) => {
        await tx.exec(CREATE_STAMP);
        await tx.exec(CLEAR_STAMP);
      });
      // The catalog as the setups left it, stamp table included (it is part of the fingerprint).
      const after = await fingerprint();
      await warehouse.transaction(async (tx) => {
        await tx.exec(CLEAR_STAMP);
        await tx.exec(WRITE_STAMP, [`${key}:${after.catalog}`]);
      });
    },
  };
}

/** The stamp's key: the build and the names of the setups that run (a graph built otherwise differs). */
export function setupKey(build: string | null, setups: readonly string[]): string | null {
  if (build === null) return null;
  return createHash('sha256')
    .update(`${build}\n${setups.join(',')}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The compiled code's identity: path, size and modification time of every module under `dist`
 * (a build rewrites them all, so any change of a source file changes it), hashed. Null when
 * running from TypeScript sources (tsx: development and tests), where setups always run.
 */
export async function buildId(moduleUrl: string = import.meta.url): Promise<string | null> {
  if (!moduleUrl.startsWith('file:') || !moduleUrl.endsWith('.js')) return null;
  // This file is dist/src/warehouse/schema-stamp.js: its grandparent holds every module.
  const root = fileURLToPath(new URL('../', moduleUrl));
  try {
    const names = (await readdir(root, { recursive: true })).filter((n) => n.endsWith('.js')).sort();
    const stats = await Promise.all(names.map((name) => stat(join(root, name))));
    const hash = createHash('sha256');
    for (const [i, name] of names.entries()) hash.update(`${name}:${stats[i]?.size}:${stats[i]?.mtimeMs}\n`);
    return hash.digest('hex').slice(0, 32);
  } catch {
    // Unreadable: unknown, so nothing is skipped.
    return null;
  }
}
