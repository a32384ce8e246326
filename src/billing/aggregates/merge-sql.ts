import { ident } from '../../warehouse/warehouse.js';
import type { AggregateDefinition, MergePlan } from './aggregate-definition.js';

/**
 * Whole-history aggregates maintained by merging, not by rebuilding affected keys from all events.
 *
 * Why: one new day touches nearly every user, region and service, so rebuilding "the affected
 * keys" re-read almost all history every day. Instead each merged aggregate `A` keeps state:
 *
 * - `A__days`: per (event day, key) partials (counts, NOT NULL sums, min/max). The change log
 *   names the event days a load, re-upload, deletion, retraction or FX re-normalization touched
 *   (plus a forced range, and the days of partitions whose withheld state flipped); those days'
 *   old partials are set aside and deleted, their new ones recomputed from those days' events
 *   only. The unit is the day, not the (day, key) cell: selecting a day is a pruned range scan
 *   where matching keys would be a join over every event, and a day is what a load brings.
 * - `A__totals`: the merged state per key: sums plus (new − old), min/max merged with
 *   least/greatest. A removal that may have taken a key's extreme (an old partial at or beyond the
 *   stored extreme, not matched by a new one) marks it NULL, recomputed from `A__days` for those
 *   keys only: O(days) per such key, never O(events).
 * - Exact distinct counts: `A__day_values` holds each (day, key)'s distinct values per measure,
 *   and `A__values` each (key, measure, value) with the number of days it occurs on. A changed
 *   day's old values decrement, its new ones increment; a value whose day count goes 0 → n adds
 *   one to the key's distinct count, n → 0 removes one. Exact under any removal, and a day costs
 *   its own values plus a pass over `A__values` (bounded by distinct pairs, not by events).
 * - The NULL-while-any-unknown normalized total does not subtract: the state keeps the known sum
 *   and the unknown count, and the table's column is derived (merge-parts.ts).
 * - `A__changed_days`: the days the last merge recomputed, for the reconciliation check.
 * - The table itself is rewritten from `A__totals` for the changed keys only (`finish`).
 *
 * Everything runs in the asset's one transaction with its cursor move, so a crash leaves state and
 * cursor together, and a replayed change recomputes the same days from the same events.
 */
/** Events aliased `e`, with an optional filter. */
export interface EventRelation {
  from: string;
  where: string | null;
}

/**
 * What the merge found, from `MergeSql.probe`: which phases of `apply` have work. Removals need
 * some, new keys or values others; a +1 day on settled history usually needs neither kind.
 */
export interface MergeProbe {
  /** Keys with partials before or after: the rows of the table to rewrite. */
  keys: number;
  /** Some key lost events: its totals may reach zero events. */
  shrunk: boolean;
  /**
   * Some key's stored extreme came from an old partial that no new one matches: the totals'
   * UPDATE marks it NULL, to be recomputed from the per-day partials.
   */
  lostExtremes: boolean;
  /** Some value left a changed day: its day count may reach zero. */
  removedValues: boolean;
  /** Some key has no totals yet (else their INSERT, a join of the delta with all totals, is skipped). */
  newKeys: boolean;
  /** Some value is new to its key (else the values' INSERT is skipped). */
  newValues: boolean;
}

export interface MergeSql {
  /** The state tables with their CREATE statements (for setup, and the shape check against probes). */
  state: readonly { name: string; columns: string }[];
  /** Lookup indexes of the state (PostgreSQL only, through `SqlDialect.lookupIndexes`). */
  indexes: string[];
  /** Empties the state and the table (a full rebuild). */
  clear: string[];
  /**
   * Creates temp table `merge_days`, the event days to recompute: $1/$2 change ids; with `range`,
   * $3/$4 the forced days; with `toggled`, the days of `toggled_partitions`' events.
   */
  collectDays: (parts: { range: boolean; toggled: boolean }) => string;
  /**
   * The merge's first phase, over the changed days' events (`changedDayEvents`): the new partials
   * and values replace the old ones, whose difference is kept in temp tables for `probe` and `apply`.
   */
  merge: (events: EventRelation) => string[];
  /** One row (`MergeProbe`'s columns) about the differences `merge` kept. */
  probe: string;
  /** The totals and values take the difference; phases only a removal needs run only after one. */
  apply: (probe: MergeProbe) => string[];
  /** The changed keys' rows of the table, rewritten from the totals. */
  finish: string[];
  /** Drops the temp tables `collectDays` and `merge` made, in one script. */
  dropTemps: string;
  /** A full build into emptied state (after `clear`), from every released event, table included. */
  build: (events: EventRelation) => string[];
  /** Number of keys a full build wrote. */
  countBuilt: string;
}

/** Key columns NOT NULL in billing_events, matched with plain `=`. */
const NOT_NULL_KEYS: ReadonlySet<string> = new Set(['event_date', 'user_id']);

/**
 * Null-safe equality of a nullable (VARCHAR) key as equalities of expressions: PostgreSQL can
 * hash-join those, where `IS NOT DISTINCT FROM` makes it loop over both sides (the state tables
 * are joined with each other, not only with the few changed keys).
 */
const keyEquals = (column: string, a: string, b: string) =>
  NOT_NULL_KEYS.has(column)
    ? `${a} = ${b}`
    : `coalesce(${a}, '') = coalesce(${b}, '') AND (${a} IS NULL) = (${b} IS NULL)`;

const NOT_WITHHELD = `NOT EXISTS (SELECT 1 FROM withheld_partitions w
      WHERE e.year = w.year AND e.month = w.month AND e.day = w.day)`;

const TEMPS = ['merge_days', 'merge_new', 'merge_delta', 'merge_day_value_delta', 'merge_value_delta'];

export const stateTable = (
  def: AggregateDefinition,
  suffix: 'days' | 'day_values' | 'values' | 'totals' | 'changed_days',
) => `${def.name}__${suffix}`;

export function mergeSql(def: AggregateDefinition, plan: MergePlan): MergeSql {
  const keys = def.keys;
  const K = keys.map((k) => ident(k.as));
  const list = (alias: string) => K.map((k) => `${alias}.${k}`).join(', ');
  /** Keys of two state-shaped relations. */
  const same = (a: string, b: string) =>
    keys.map((k) => keyEquals(k.column, `${a}.${ident(k.as)}`, `${b}.${ident(k.as)}`)).join(' AND ');
  const eventKeys = (e: string) => keys.map((k) => `${e}.${ident(k.column)} AS ${ident(k.as)}`).join(', ');
  const eventGroup = (e: string) => keys.map((k) => `${e}.${ident(k.column)}`).join(', ');
  const keyColumns = keys.map((k) => `${ident(k.as)} ${k.type}`).join(', ');

  const days = ident(stateTable(def, 'days'));
  const dayValues = ident(stateTable(def, 'day_values'));
  const values = ident(stateTable(def, 'values'));
  const totals = ident(stateTable(def, 'totals'));
  const changedDays = ident(stateTable(def, 'changed_days'));
  const table = ident(def.name);

  const parts = plan.parts;
  const sums = parts.filter((p) => p.merge === 'sum');
  const extremes = parts.filter((p) => p.merge !== 'sum');
  const bareType = (type: string) => type.replace(/\s+NOT NULL$/i, '');
  const partColumns = parts.map((p) => `${ident(p.name)} ${p.type}`).join(', ');
  const partNames = parts.map((p) => ident(p.name)).join(', ');
  const inChangedDays = (alias: string) => `${alias}.event_date IN (SELECT event_date FROM merge_days)`;

  const state = [
    { name: stateTable(def, 'days'), columns: `event_date DATE NOT NULL, ${keyColumns}, ${partColumns}` },
    {
      name: stateTable(def, 'day_values'),
      columns: `event_date DATE NOT NULL, ${keyColumns}, measure VARCHAR NOT NULL, value VARCHAR NOT NULL`,
    },
    {
      name: stateTable(def, 'values'),
      columns: `${keyColumns}, measure VARCHAR NOT NULL, value VARCHAR NOT NULL, days BIGINT NOT NULL`,
    },
    {
      name: stateTable(def, 'totals'),
      // min/max nullable: NULL marks "recompute from the per-day partials" during a merge.
      columns: `${keyColumns}, ${parts.map((p) => `${ident(p.name)} ${p.merge === 'sum' ? p.type : bareType(p.type)}`).join(', ')},
        ${plan.distinct.map((d) => `${ident(d.name)} BIGINT NOT NULL`).join(', ')}`,
    },
    // The event days the last merge rebuilt: the reconciliation check compares those with the events.
    { name: stateTable(def, 'changed_days'), columns: 'event_date DATE NOT NULL' },
  ];

  const where = (events: EventRelation, ...more: string[]) => {
    const all = [events.where, ...more].filter((w): w is string => w !== null);
    return all.length > 0 ? `WHERE ${all.join(' AND ')}` : '';
  };
  const distinctSelect = (events: EventRelation) =>
    plan.distinct
      .map(
        (
          d,
        ) => `SELECT DISTINCT e.event_date, ${eventKeys('e')}, '${d.name}' AS measure, CAST(${d.expr} AS VARCHAR) AS value
      FROM ${events.from} ${where(events, `${d.expr} IS NOT NULL`)}`,
      )
      .join('\n      UNION ALL ');

  const typedNull = (type: string) => `CAST(NULL AS ${bareType(type)})`;
  const deltaColumns = (side: 'new' | 'old') =>
    [
      ...sums.map((p) => (side === 'new' ? ident(p.name) : `-${ident(p.name)}`)),
      ...extremes.flatMap((p) =>
        side === 'new' ? [ident(p.name), typedNull(p.type)] : [typedNull(p.type), ident(p.name)],
      ),
    ].join(', ');
  const newName = (p: { name: string }) => ident(`new_${p.name}`);
  const oldName = (p: { name: string }) => ident(`old_${p.name}`);
  const deltaAliases = [
    ...sums.map((p) => ident(p.name)),
    ...extremes.flatMap((p) => [newName(p), oldName(p)]),
  ].join(', ');
  const deltaAggregates = [
    ...sums.map((p) => `sum(u.${ident(p.name)}) AS ${ident(p.name)}`),
    ...extremes.flatMap((p) => {
      const f = p.merge === 'min' ? 'min' : 'max';
      return [`${f}(u.${newName(p)}) AS ${newName(p)}`, `${f}(u.${oldName(p)}) AS ${oldName(p)}`];
    }),
  ].join(', ');
  // An extreme stays, or moves to the new partials' own, unless a removed partial may have held it.
  const mergeExtreme = (p: (typeof extremes)[number]) => {
    const n = `d.${newName(p)}`;
    const o = `d.${oldName(p)}`;
    const t = `t.${ident(p.name)}`;
    const beats = p.merge === 'min' ? '<=' : '>=';
    return `${ident(p.name)} = CASE WHEN ${n} IS NOT NULL AND ${n} ${beats} ${t} THEN ${n}
        WHEN ${o} IS NOT NULL AND ${o} ${beats} ${t} THEN NULL ELSE ${t} END`;
  };
  /** Over merge_delta `d` and the totals `t` before the UPDATE: `mergeExtreme` would give NULL. */
  const losesExtreme = (p: (typeof extremes)[number]) => {
    const n = `d.${newName(p)}`;
    const o = `d.${oldName(p)}`;
    const t = `t.${ident(p.name)}`;
    const beats = p.merge === 'min' ? '<=' : '>=';
    return `(${o} IS NOT NULL AND ${o} ${beats} ${t} AND NOT (${n} IS NOT NULL AND ${n} ${beats} ${t}))`;
  };
  const valueMatch = (a: string, b: string) =>
    `${same(a, b)} AND ${a}.measure = ${b}.measure AND ${a}.value = ${b}.value`;

  const totalsColumns = `${K.join(', ')}, ${partNames}, ${plan.distinct.map((d) => ident(d.name)).join(', ')}`;
  // Per changed key, how many of its values come (+1) or go (-1) for good, from the value delta.
  const distinctDelta = `SELECT ${list('v')}, ${plan.distinct
    .map(
      (x) => `coalesce(sum(CASE WHEN v.days IS NULL THEN 1 WHEN v.days + v.n = 0 THEN -1 ELSE 0 END)
          FILTER (WHERE v.measure = '${x.name}'), 0) AS ${ident(x.name)}`,
    )
    .join(', ')}
      FROM merge_value_delta v GROUP BY ${list('v')}`;

  const merge = (events: EventRelation) => [
    // The changed days' new partials, then their difference with the old ones before those go.
    `CREATE TEMP TABLE merge_new AS SELECT e.event_date, ${eventKeys('e')},
      ${parts.map((p) => `${p.expr} AS ${ident(p.name)}`).join(', ')}
      FROM ${events.from} ${where(events)} GROUP BY e.event_date, ${eventGroup('e')}`,
    // Counts, sums and extremes: new minus old per key.
    `CREATE TEMP TABLE merge_delta AS SELECT ${list('u')}, ${deltaAggregates} FROM (
      SELECT ${K.join(', ')}, ${deltaColumns('new')} FROM merge_new
      UNION ALL SELECT ${K.join(', ')}, ${deltaColumns('old')} FROM ${days} d WHERE ${inChangedDays('d')}
    ) u (${K.join(', ')}, ${deltaAliases}) GROUP BY ${list('u')}`,
    `DELETE FROM ${days} d WHERE ${inChangedDays('d')}`,
    `INSERT INTO ${days} (event_date, ${K.join(', ')}, ${partNames}) SELECT event_date, ${K.join(', ')}, ${partNames} FROM merge_new`,
    // Distinct counts: per changed day the values that came (+1) or left (-1), unchanged ones
    // cancelling; then per (key, measure, value) the change in the number of days it occurs on,
    // beside that number before (NULL: a value new to the key).
    `CREATE TEMP TABLE merge_day_value_delta AS SELECT u.event_date, ${list('u')}, u.measure, u.value, sum(u.n) AS n
      FROM (
        SELECT event_date, ${K.join(', ')}, measure, value, 1 AS n FROM (${distinctSelect(events)}) n
        UNION ALL SELECT event_date, ${K.join(', ')}, measure, value, -1 FROM ${dayValues} o WHERE ${inChangedDays('o')}
      ) u GROUP BY u.event_date, ${list('u')}, u.measure, u.value HAVING sum(u.n) <> 0`,
    `CREATE TEMP TABLE merge_value_delta AS SELECT ${list('u')}, u.measure, u.value, u.n, v.days FROM (
      SELECT ${list('u')}, u.measure, u.value, sum(u.n) AS n FROM merge_day_value_delta u
      GROUP BY ${list('u')}, u.measure, u.value HAVING sum(u.n) <> 0
    ) u LEFT JOIN ${values} v ON ${valueMatch('v', 'u')}`,
    // Only the values that left a changed day or came to it: a +1 day also changes the day before
    // (zone offsets), and rewriting that day's unchanged values made DuckDB's next checkpoint
    // rewrite the table's row groups (230 ms for service_aggregates at 10 days).
    `DELETE FROM ${dayValues} v WHERE ${inChangedDays('v')} AND EXISTS (
      SELECT 1 FROM merge_day_value_delta d WHERE d.n < 0 AND d.event_date = v.event_date AND ${valueMatch('d', 'v')})`,
    `INSERT INTO ${dayValues} (event_date, ${K.join(', ')}, measure, value)
      SELECT event_date, ${K.join(', ')}, measure, value FROM merge_day_value_delta WHERE n > 0`,
  ];

  // One pass over each delta (a count per phase), the totals joined once: they hold one row per key.
  const probe = `SELECT d.keys, d.shrunk, d.lost_extremes, d.new_keys, v.removed_values, v.new_values FROM (
      SELECT count(*) AS keys,
        count(*) FILTER (WHERE d.event_count < 0) AS shrunk,
        count(*) FILTER (WHERE ${extremes.length === 0 ? 'false' : extremes.map(losesExtreme).join(' OR ')}) AS lost_extremes,
        count(*) FILTER (WHERE t.event_count IS NULL) AS new_keys
      FROM merge_delta d LEFT JOIN ${totals} t ON ${same('t', 'd')}) d,
    (SELECT count(*) FILTER (WHERE n < 0) AS removed_values,
        count(*) FILTER (WHERE days IS NULL AND n > 0) AS new_values
      FROM merge_value_delta) v`;

  const apply = (found: MergeProbe) => [
    // Totals plus new minus old, distinct counts plus the values that came minus those that went.
    `UPDATE ${totals} t SET ${[
      ...sums.map((p) => `${ident(p.name)} = t.${ident(p.name)} + d.${ident(p.name)}`),
      ...extremes.map(mergeExtreme),
      ...plan.distinct.map((x) => `${ident(x.name)} = t.${ident(x.name)} + coalesce(x.${ident(x.name)}, 0)`),
    ].join(',\n      ')}
      FROM merge_delta d LEFT JOIN (${distinctDelta}) x ON ${same('x', 'd')}
      WHERE ${same('t', 'd')}`,
    ...(found.newKeys
      ? [
          `INSERT INTO ${totals} (${totalsColumns})
      SELECT ${list('d')}, ${[
        ...parts.map((p) => (p.merge === 'sum' ? `d.${ident(p.name)}` : `d.${newName(p)}`)),
        ...plan.distinct.map((x) => `coalesce(x.${ident(x.name)}, 0)`),
      ].join(', ')}
      FROM merge_delta d LEFT JOIN (${distinctDelta}) x ON ${same('x', 'd')}
      WHERE NOT EXISTS (SELECT 1 FROM ${totals} t WHERE ${same('t', 'd')})`,
        ]
      : []),
    ...(found.shrunk ? [`DELETE FROM ${totals} WHERE event_count = 0`] : []),
    ...(extremes.length === 0 || !found.lostExtremes
      ? []
      : [
          `UPDATE ${totals} t SET ${extremes.map((p) => `${ident(p.name)} = coalesce(t.${ident(p.name)}, r.${ident(p.name)})`).join(', ')}
      FROM (SELECT ${list('d')}, ${extremes.map((p) => `${p.merge}(d.${ident(p.name)}) AS ${ident(p.name)}`).join(', ')}
        FROM ${days} d JOIN (SELECT ${K.join(', ')} FROM ${totals}
          WHERE ${extremes.map((p) => `${ident(p.name)} IS NULL`).join(' OR ')}) n ON ${same('d', 'n')}
        GROUP BY ${list('d')}) r
      WHERE ${same('t', 'r')}`,
        ]),
    `UPDATE ${values} v SET days = v.days + d.n FROM merge_value_delta d
      WHERE d.days IS NOT NULL AND ${valueMatch('v', 'd')}`,
    ...(found.newValues
      ? [
          `INSERT INTO ${values} (${K.join(', ')}, measure, value, days)
      SELECT ${list('d')}, d.measure, d.value, d.n FROM merge_value_delta d WHERE d.days IS NULL AND d.n > 0`,
        ]
      : []),
    ...(found.removedValues ? [`DELETE FROM ${values} WHERE days <= 0`] : []),
    `DELETE FROM ${changedDays}`,
    `INSERT INTO ${changedDays} SELECT event_date FROM merge_days`,
  ];

  // A full build (first run, full refresh, outdated state) writes the state straight from the
  // events: nothing to subtract, no totals to update, and the table (emptied) takes every key.
  const build = (events: EventRelation) => [
    `INSERT INTO ${days} (event_date, ${K.join(', ')}, ${partNames})
      SELECT e.event_date, ${eventKeys('e')}, ${parts.map((p) => p.expr).join(', ')}
      FROM ${events.from} ${where(events)} GROUP BY e.event_date, ${eventGroup('e')}`,
    `INSERT INTO ${dayValues} (event_date, ${K.join(', ')}, measure, value) ${distinctSelect(events)}`,
    `INSERT INTO ${values} (${K.join(', ')}, measure, value, days)
      SELECT ${K.join(', ')}, measure, value, count(*) FROM ${dayValues} GROUP BY ${K.join(', ')}, measure, value`,
    `INSERT INTO ${totals} (${totalsColumns})
      SELECT ${list('d')}, ${parts.map((p) => `${p.merge}(d.${ident(p.name)})`).join(', ')},
        ${plan.distinct.map((x) => `coalesce(max(v.${ident(x.name)}), 0)`).join(', ')}
      FROM ${days} d LEFT JOIN (
        SELECT ${K.join(', ')}, ${plan.distinct.map((x) => `count(*) FILTER (WHERE measure = '${x.name}') AS ${ident(x.name)}`).join(', ')}
        FROM ${values} GROUP BY ${K.join(', ')}
      ) v ON ${same('d', 'v')}
      GROUP BY ${list('d')}`,
    `INSERT INTO ${changedDays} SELECT DISTINCT event_date FROM ${days}`,
    `INSERT INTO ${table} SELECT ${list('t')}, ${plan.finish} FROM ${totals} t`,
  ];

  return {
    state,
    // Bare index names (aggregate names are plain identifiers): the dialect looks them up by name.
    indexes: (['days', 'day_values'] as const).map(
      (suffix) =>
        `CREATE INDEX IF NOT EXISTS ${def.name}__${suffix}_event_date ON ${ident(stateTable(def, suffix))} (event_date)`,
    ),
    clear: [days, dayValues, values, totals, changedDays, table].map((t) => `DELETE FROM ${t}`),
    collectDays: ({ range, toggled }) =>
      [
        `CREATE TEMP TABLE merge_days AS
      SELECT DISTINCT event_date FROM billing_event_changes
        WHERE change_id > $1 AND change_id <= $2 AND event_date IS NOT NULL`,
        // Only when asked: even a filter that matches nothing costs a pass over billing_events.
        range
          ? `UNION SELECT DISTINCT event_date FROM billing_events
        WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)
      UNION SELECT DISTINCT event_date FROM ${days} WHERE event_date BETWEEN CAST($3 AS DATE) AND CAST($4 AS DATE)`
          : null,
        toggled
          ? `UNION SELECT DISTINCT e.event_date FROM billing_events e
        WHERE EXISTS (SELECT 1 FROM toggled_partitions t WHERE e.year = t.year AND e.month = t.month AND e.day = t.day)`
          : null,
      ]
        .filter((part) => part !== null)
        .join('\n      '),
    merge,
    probe,
    apply,
    finish: [
      `DELETE FROM ${table} a WHERE EXISTS (SELECT 1 FROM merge_delta k WHERE ${same('a', 'k')})`,
      `INSERT INTO ${table} SELECT ${list('t')}, ${plan.finish} FROM ${totals} t JOIN merge_delta k ON ${same('t', 'k')}`,
    ],
    // One script (no parameters): both warehouses run its statements in one round trip.
    dropTemps: TEMPS.map((t) => `DROP TABLE IF EXISTS ${t};`).join('\n'),
    build,
    countBuilt: `SELECT count(*) AS n FROM ${totals}`,
  };
}

/** The event relation of a full build (every released event) and of an incremental one. */
export const allEvents = (withheld: boolean): EventRelation => ({
  from: 'billing_events e',
  where: withheld ? NOT_WITHHELD : null,
});
export const changedDayEvents = (withheld: boolean): EventRelation => ({
  from: 'billing_events e',
  where: `e.event_date IN (SELECT event_date FROM merge_days)${withheld ? ` AND ${NOT_WITHHELD}` : ''}`,
});

/** Which version of its state each merged aggregate has (see `migrateMergeState`). */
export const MERGE_STATE_LOCK = 'setup:aggregate-merge-state';
export const CREATE_MERGE_STATE = `CREATE TABLE IF NOT EXISTS aggregate_merge_state (
  asset VARCHAR NOT NULL,
  version VARCHAR NOT NULL
)`;
export const MERGE_STATE_VERSION = 'SELECT version FROM aggregate_merge_state WHERE asset = $1';
export const DELETE_MERGE_STATE_VERSION = 'DELETE FROM aggregate_merge_state WHERE asset = $1';
export const INSERT_MERGE_STATE_VERSION =
  'INSERT INTO aggregate_merge_state (asset, version) VALUES ($1, $2)';
