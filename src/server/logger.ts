import { ConfigError } from '../config.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';

/** Context a line is about; snake_case because these become JSON keys log pipelines index. */
export interface LogFields {
  run_id?: string;
  asset?: string;
  sensor?: string;
  schedule?: string;
  [key: string]: string | number | boolean | null | undefined;
}

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same logger with `fields` on every line (e.g. one sensor's lines). */
  child(fields: LogFields): Logger;
  /** An info-level `(line) => void` for components that take a plain log function. */
  readonly line: (msg: string) => void;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Receives each finished line, without a trailing newline. */
  write: (line: string) => void;
  clock?: () => Date;
}

/** `BILLING_LOG_FORMAT`: `text` (the default, human lines) or `json` (one object per line). */
export function parseLogFormat(value: string | undefined): LogFormat {
  const format = value?.trim().toLowerCase() || 'text';
  if (format === 'text' || format === 'json') return format;
  throw new ConfigError(`BILLING_LOG_FORMAT must be "text" or "json"; got "${value}"`);
}

export const stdoutLine = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * Text lines stay what people read today (`<ISO time> <message>`); fields only show in JSON,
 * where `time`, `level` and `msg` come first so they read well in `jq` and log viewers.
 */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const clock = options.clock ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    const time = clock().toISOString();
    if (options.format === 'text') {
      options.write(`${time} ${msg}`);
      return;
    }
    const record: Record<string, unknown> = { time, level, msg };
    for (const [key, value] of Object.entries({ ...bound, ...fields })) {
      // The three leading keys are the contract; a field must not shadow them.
      if (value !== undefined && !(key in record)) record[key] = value;
    }
    options.write(JSON.stringify(record));
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
    line: (msg) => emit('info', msg),
  };
}
