/** The 11 columns every billing file must have, in canonical order. */
export const SCHEMA_COLUMNS = [
  'timestamp',
  'resource_id',
  'user_id',
  'credit_usage',
  'region',
  'service_tier',
  'operation_type',
  'success',
  'resource_type',
  'invoice_id',
  'currency',
] as const;

export type SchemaColumn = (typeof SCHEMA_COLUMNS)[number];
