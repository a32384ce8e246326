/** Replacing one file's rows: the statements run in one transaction per file, in this order. */

/** Keys of a file's rows (old ones before the delete, new ones after the insert) go to the change log. */
export const RECORD_CHANGED_KEYS = `INSERT INTO billing_event_changes
  SELECT $2, event_date, user_id, region, service_tier, resource_type, operation_type
  FROM billing_events WHERE source_key = $1
  GROUP BY ALL`;

export const DELETE_FILE_EVENTS = 'DELETE FROM billing_events WHERE source_key = $1';
export const DELETE_FILE_REJECTED_ROWS = 'DELETE FROM rejected_rows WHERE source_key = $1';
export const DELETE_FILE_REJECTION = 'DELETE FROM rejected_files WHERE source_key = $1';
export const NEXT_CHANGE_ID = "SELECT nextval('billing_change_seq') AS id";

/** Change-log rows every consumer has read are no longer needed. */
export const PRUNE_CHANGES = 'DELETE FROM billing_event_changes WHERE change_id <= $1';
