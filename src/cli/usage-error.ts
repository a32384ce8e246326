/** A usage problem (bad flag value): reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
