import { createHash } from 'node:crypto';
import type { SpendAnomalySettings } from '../checks/quality-config.js';
import { anomalySql, medianOf } from '../checks/robust-z.js';

export const ANOMALY_COLUMNS = `entity_type VARCHAR, entity VARCHAR, day DATE, normalized_spend DECIMAL(38,6),
  baseline_median DECIMAL(38,6), baseline_mad DECIMAL(38,6), history_days BIGINT, robust_z DECIMAL(38,2),
  direction VARCHAR, deviation DECIMAL(38,6)`;

/** Each entity's known daily spends: the series every anomaly row is scored from. */
const SERIES = `SELECT 'user' AS entity_type, CAST(user_id AS VARCHAR) AS entity, day, total_normalized_credit_usage AS spend
      FROM user_daily_aggregates WHERE total_normalized_credit_usage IS NOT NULL
      UNION ALL
      SELECT 'region', coalesce(region, '(none)'), day, total_normalized_credit_usage
      FROM region_daily_aggregates WHERE total_normalized_credit_usage IS NOT NULL`;

const entity = (a: string, b: string) => `${a}.entity_type = ${b}.entity_type AND ${a}.entity = ${b}.entity`;
const cell = (a: string, b: string) => `${entity(a, b)} AND ${a}.day = ${b}.day`;

/**
 * The anomaly rows of the series rows in `scored` (series-shaped), each against its entity's
 * window in `history` (the whole series). A row depends only on its own spend and its entity's
 * spends in the `window_days` before it, so scoring a subset gives exactly those rows of the whole.
 */
function anomalyRows(settings: SpendAnomalySettings, scored: string, history: string, leading = ''): string {
  const rule = anomalySql(
    { value: 'spend', median: 'baseline', mad: 'spread', history: 'history_days' },
    settings,
  );
  const minSpend = `CAST('${settings.min_spend}' AS DECIMAL(38,6))`;
  const minDeviation = `CAST('${settings.min_deviation}' AS DECIMAL(38,6))`;
  return `WITH ${leading}
    -- DOUBLE statistics: a median of DECIMALs would keep their scale and drop the half digit.
    hist AS (
      SELECT s.entity_type, s.entity, s.day, CAST(h.spend AS DOUBLE PRECISION) AS v
      FROM ${scored} s JOIN ${history} h ON ${entity('h', 's')}
        AND h.day >= s.day - ${Number(settings.window_days)} AND h.day < s.day
    ),
    base AS (
      SELECT entity_type, entity, day, count(*) AS history_days, ${medianOf('v')} AS baseline
      FROM hist GROUP BY entity_type, entity, day
    ),
    stats AS (
      SELECT b.entity_type, b.entity, b.day, b.history_days, b.baseline,
        ${medianOf('abs(h.v - b.baseline)')} AS spread
      FROM base b JOIN hist h ON ${entity('h', 'b')} AND h.day = b.day
      GROUP BY b.entity_type, b.entity, b.day, b.history_days, b.baseline
    ),
    scored AS (
      SELECT s.entity_type, s.entity, s.day, s.spend, coalesce(t.history_days, 0) AS history_days,
        t.baseline, t.spread, s.spend - CAST(t.baseline AS DECIMAL(38,6)) AS deviation
      FROM ${scored} s LEFT JOIN stats t ON ${entity('t', 's')} AND t.day = s.day
    )
    SELECT entity_type, entity, day, spend AS normalized_spend,
      CAST(baseline AS DECIMAL(38,6)) AS baseline_median, CAST(spread AS DECIMAL(38,6)) AS baseline_mad, history_days,
      CAST(round(${rule.z}, 2) AS DECIMAL(38,2)) AS robust_z,
      CASE WHEN spend > baseline THEN 'spike' ELSE 'drop' END AS direction,
      CAST(deviation AS DECIMAL(38,6)) AS deviation
    FROM scored
    WHERE ${rule.anomalous} AND greatest(abs(spend), abs(baseline)) >= ${minSpend}
      AND abs(deviation) >= ${minDeviation}`;
}

/**
 * Spend anomalies: per user and per region, each day's normalized spend (reporting currency)
 * against the median and MAD of the entity's known days in the trailing window (see
 * checks/robust-z.ts for the statistical rule). On top of the statistics, the money at stake
 * (`deviation` = spend − median, exact DECIMAL) must reach `min_deviation`: a small account's day
 * swings by several times its median on a few large charges, which is noise to a finance reader,
 * and on the demo's random data the statistics alone flag hundreds of such days. Days whose spend
 * is unknown (an event lacks an FX rate) are neither scored nor used as history: unknown is not zero.
 * The window is a self-join (`hist`: every scored row with each of its window's values), as
 * PostgreSQL has no median and no ordered-set window functions; MAD is the median of the absolute
 * deviations from that median. This is the full build; `spendAnomalyMaintenance` keeps it up to date.
 * Readers order the rows themselves (ranked by money at stake): incremental upkeep keeps no order.
 */
export function spendAnomaliesSql(
  settings: SpendAnomalySettings,
  withDailySeries: boolean,
  table = 'insights_spend_anomalies',
): string {
  if (!withDailySeries) return `CREATE TABLE ${table} (${ANOMALY_COLUMNS})`;
  return `CREATE TABLE ${table} AS
    ${anomalyRows(
      settings,
      'series',
      'series',
      `series AS (
      ${SERIES}
    ),`,
    )}
    ORDER BY abs(deviation) DESC, entity_type, entity, day`;
}

/** The series the anomalies were last scored from, and which definition scored them. */
export const SPEND_SERIES_TABLE = 'insights_spend_series';
const STATE_TABLE = 'insights_anomaly_state';

export interface SpendAnomalyMaintenance {
  /** Creates the state tables if missing. */
  setup: string[];
  /** The stored definition version (`version`), or no row. */
  readVersion: string;
  /** A hash of the full build's SQL: rows scored by another definition cannot be kept. */
  version: string;
  /** Everything from scratch: the table, the kept series, the version. */
  full: string[];
  /**
   * Only the rows whose window holds a changed day: the series' changed (entity, day) cells (spend
   * changed, appeared or went), then every cell up to `window_days` after one, rescored.
   * Null without daily series (the table stays empty).
   */
  incremental: string[] | null;
}

export function spendAnomalyMaintenance(
  settings: SpendAnomalySettings,
  withDailySeries: boolean,
): SpendAnomalyMaintenance {
  const create = spendAnomaliesSql(settings, withDailySeries);
  const version = createHash('sha256').update(create).digest('hex').slice(0, 16);
  const table = 'insights_spend_anomalies';
  const series = SPEND_SERIES_TABLE;
  const setup = [
    `CREATE TABLE IF NOT EXISTS ${series} (entity_type VARCHAR NOT NULL, entity VARCHAR NOT NULL,
      day DATE NOT NULL, spend DECIMAL(38,6) NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (version VARCHAR NOT NULL)`,
  ];
  const full = [
    `DROP TABLE IF EXISTS ${table}`,
    create,
    `DELETE FROM ${series}`,
    ...(withDailySeries ? [`INSERT INTO ${series} ${SERIES}`] : []),
    `DELETE FROM ${STATE_TABLE}`,
    `INSERT INTO ${STATE_TABLE} VALUES ('${version}')`,
  ];
  const incremental = withDailySeries
    ? [
        `CREATE TEMP TABLE anomaly_series AS ${SERIES}`,
        `CREATE TEMP TABLE anomaly_changed AS
      SELECT coalesce(n.entity_type, o.entity_type) AS entity_type, coalesce(n.entity, o.entity) AS entity,
        coalesce(n.day, o.day) AS day
      FROM anomaly_series n FULL OUTER JOIN ${series} o ON ${cell('n', 'o')}
      WHERE n.spend IS DISTINCT FROM o.spend`,
        `CREATE TEMP TABLE anomaly_rescored AS
      SELECT DISTINCT s.entity_type, s.entity, s.day, s.spend
      FROM anomaly_series s JOIN anomaly_changed c ON ${entity('s', 'c')}
        AND s.day >= c.day AND s.day <= c.day + ${Number(settings.window_days)}`,
        `DELETE FROM ${table} a WHERE EXISTS (SELECT 1 FROM anomaly_changed c WHERE ${cell('a', 'c')})
        OR EXISTS (SELECT 1 FROM anomaly_rescored r WHERE ${cell('a', 'r')})`,
        `INSERT INTO ${table} SELECT * FROM (${anomalyRows(settings, 'anomaly_rescored', 'anomaly_series')}) a`,
        `DELETE FROM ${series} o WHERE EXISTS (SELECT 1 FROM anomaly_changed c WHERE ${cell('o', 'c')})`,
        `INSERT INTO ${series} SELECT n.entity_type, n.entity, n.day, n.spend
      FROM anomaly_series n JOIN anomaly_changed c ON ${cell('n', 'c')}`,
        'DROP TABLE anomaly_series; DROP TABLE anomaly_changed; DROP TABLE anomaly_rescored;',
      ]
    : null;
  return { setup, readVersion: `SELECT version FROM ${STATE_TABLE}`, version, full, incremental };
}
