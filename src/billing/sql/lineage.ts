/** Which files (and which of their lines) produced the events of one UTC day. */
export const FILES_BEHIND_EVENT_DAY = `SELECT e.source_key, f.loaded_version AS version, f.loaded_run_id AS run_id,
    count(*) AS events, sum(e.credit_usage) AS total_credit_usage,
    min(e.source_line) AS first_line, max(e.source_line) AS last_line
  FROM billing_events e LEFT JOIN billing_files f USING (source_key)
  WHERE e.event_date = CAST($1 AS DATE)
  GROUP BY e.source_key, f.loaded_version, f.loaded_run_id ORDER BY e.source_key`;

/** The files stored under one partition path day, with their load state. */
export const FILES_IN_PARTITION = `SELECT source_key, version, status, loaded_run_id AS run_id, row_count AS events,
    rejected_row_count AS rejected_rows, error
  FROM billing_files WHERE partition = CAST($1 AS DATE) ORDER BY source_key`;

export const SAMPLE_EVENTS_OF_DAY = `SELECT source_key, source_line, "timestamp", user_id, credit_usage, currency,
    region, service_tier, operation_type, success
  FROM billing_events WHERE event_date = CAST($1 AS DATE)
  ORDER BY source_key, source_line LIMIT $2`;
