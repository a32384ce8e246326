/**
 * The delivery side's statements on `alert_outbox` / `alert_deliveries` (tables in alert-sql.ts).
 * Portable DuckDB/PostgreSQL SQL; instants are bound as naive UTC text (`timestampParam`).
 */

const ts = (n: number) => `CAST($${n} AS TIMESTAMP)`;

/** `o` has no older pending event of the same alert and channel, which must go first. */
const NOT_BEHIND_OLDER = `NOT EXISTS (
    SELECT 1 FROM alert_outbox p
    WHERE p.alert_id = o.alert_id AND p.channel = o.channel AND p.status = 'pending'
      AND p.created_at < o.created_at)`;

/** A row free to claim: pending, due, not leased (or the lease ran out: its holder died). */
const CLAIMABLE = (alias: string, now: string) =>
  `${alias}status = 'pending' AND ${alias}next_attempt_at <= ${now}
    AND (${alias}claimed_until IS NULL OR ${alias}claimed_until <= ${now})`;

/**
 * Leases up to `limit` due rows until $1 (now = $2) and returns them, oldest due first. An event
 * waits while an older pending event of the same alert and channel exists, so a receiver never
 * sees "resolved" before "fired". The outer conditions repeat the inner ones: under PostgreSQL's
 * READ COMMITTED a concurrent claimer re-checks them against the row it waited for and skips it
 * (the caller also holds the `alert_outbox` lock, so claimers queue rather than race).
 */
export const claimDueSql = (limit: number): string => `
  UPDATE alert_outbox SET claimed_until = ${ts(1)}
  WHERE ${CLAIMABLE('', ts(2))}
    AND event_id IN (
      SELECT o.event_id FROM alert_outbox o
      WHERE ${CLAIMABLE('o.', ts(2))} AND ${NOT_BEHIND_OLDER}
      ORDER BY o.next_attempt_at, o.created_at, o.event_id
      LIMIT ${Math.max(1, Math.trunc(limit))})
  RETURNING event_id, alert_id, kind, channel, payload, attempts`;

/** One attempt, as the history the UI and API show: $1 event … $10 next attempt. */
export const INSERT_DELIVERY = `
  INSERT INTO alert_deliveries
    (event_id, alert_id, channel, attempt, attempted_at, status, http_status, error, duration_ms, next_attempt_at)
  VALUES ($1, $2, $3, $4, ${ts(5)}, $6, $7, $8, $9, ${ts(10)})`;

/**
 * The outcome on the outbox row, guarded by the lease it was sent under ($6): a holder whose lease
 * ran out (and whose event another process may have taken) must not overwrite that one's result.
 * $1 status, $2 attempts, $3 next attempt, $4 delivered at, $5 last error, $7 event.
 */
export const FINISH_ATTEMPT = `
  UPDATE alert_outbox
  SET status = $1, attempts = $2, next_attempt_at = COALESCE(${ts(3)}, next_attempt_at),
      delivered_at = ${ts(4)}, last_error = $5, claimed_until = NULL
  WHERE event_id = $7 AND claimed_until = ${ts(6)}`;

/** Earliest instant a pending event becomes claimable: when the delivery loop should wake (a blocked one waits for its elder). */
export const NEXT_DUE = `
  SELECT min(CASE WHEN o.claimed_until IS NOT NULL AND o.claimed_until > o.next_attempt_at
                  THEN o.claimed_until ELSE o.next_attempt_at END) AS due
  FROM alert_outbox o WHERE o.status = 'pending' AND ${NOT_BEHIND_OLDER}`;

/**
 * Embedded mode only (one process owns the file): leases left by a killed process are void at
 * start, so its in-flight events are retried at once rather than after the lease runs out.
 */
export const RELEASE_ALL_CLAIMS = `UPDATE alert_outbox SET claimed_until = NULL WHERE status = 'pending' AND claimed_until IS NOT NULL`;

/** A 'test' event: $1 event, $2 channel, $3 payload, $4 now. */
export const INSERT_TEST_EVENT = `
  INSERT INTO alert_outbox (event_id, alert_id, kind, channel, payload, status, attempts, next_attempt_at, created_at)
  VALUES ($1, NULL, 'test', $2, $3, 'pending', 0, ${ts(4)}, ${ts(4)})`;
