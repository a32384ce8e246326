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

/**
 * The values a billing export is known to use: the accepted-values check's defaults and the sample
 * generator's vocabulary, so generated data passes the default checks by construction.
 */
export const KNOWN_REGIONS = [
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-southeast-1',
  'ap-northeast-1',
  'sa-east-1',
] as const;
export const KNOWN_TIERS = ['free', 'standard', 'premium', 'enterprise'] as const;
export const KNOWN_OPERATIONS = ['compute', 'storage', 'read', 'write', 'transfer', 'query'] as const;
export const KNOWN_RESOURCE_TYPES = ['vm', 'bucket', 'database', 'function', 'cache', 'queue'] as const;
export const KNOWN_CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'] as const;
