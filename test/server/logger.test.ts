import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { createLogger, parseLogFormat } from '../../src/server/logger.js';

const at = new Date('2025-04-23T10:00:00.000Z');

describe('daemon logger', () => {
  it('keeps text lines as before: time and message, no fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'text', write: (l) => lines.push(l), clock: () => at });
    logger.child({ sensor: 's' }).warn('sensor s: failed: boom', { run_id: 'r1' });
    logger.line('plain');
    expect(lines).toEqual([
      '2025-04-23T10:00:00.000Z sensor s: failed: boom',
      '2025-04-23T10:00:00.000Z plain',
    ]);
  });

  it('writes one JSON object per line with bound and given fields; fields never replace time, level or msg', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', write: (l) => lines.push(l), clock: () => at });
    logger
      .child({ sensor: 's3_partition_sensor' })
      .error('tick failed', { run_id: 'r1', msg: 'x', skip: undefined });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: '2025-04-23T10:00:00.000Z',
        level: 'error',
        msg: 'tick failed',
        sensor: 's3_partition_sensor',
        run_id: 'r1',
      },
    ]);
  });

  it('reads BILLING_LOG_FORMAT, defaulting to text and refusing unknown values', () => {
    expect(parseLogFormat(undefined)).toBe('text');
    expect(parseLogFormat(' JSON ')).toBe('json');
    expect(() => parseLogFormat('yaml')).toThrow(ConfigError);
  });
});
