import { ConfigError } from '../config/errors.js';
import type { Config } from '../config.js';
import { createSource } from './create-source.js';
import { RetryingSource } from './retrying-source.js';
import type { Source, SourceError } from './source.js';

/** A source that only explains itself: for commands that never read files but still build the graph. */
export function missingSource(): Source {
  const fail = (): never => {
    throw new ConfigError(
      'no source configured: set BILLING_SOURCE or pass --source (s3://bucket/prefix/ or a folder)',
    );
  };
  return { uri: '(none)', list: fail, open: fail, put: fail, putFile: fail, close: async () => {} };
}

/**
 * A source with this process's retry settings and credentials (AWS_* stay per machine). Kept apart
 * from run-graphs.ts (which loads the whole asset graph) so a runtime can list before loading it.
 */
export function configuredSource(
  uri: string | null,
  config: Config,
  onError?: (error: SourceError) => void,
): Source {
  if (!uri) return missingSource();
  const { automation } = config;
  return new RetryingSource(createSource(uri, config.env), {
    retries: automation.sourceRetries,
    baseDelayMs: automation.sourceRetryBaseMs,
    maxDelayMs: automation.sourceRetryMaxMs,
    onError,
  });
}
