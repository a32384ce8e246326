import { type Config, ConfigError } from '../config.js';
import type { AutomationStore } from '../orchestrator/automation-store.js';
import { CronError } from '../orchestrator/cron-ticks.js';
import { dailyPartitionSchedule, type ScheduleDefinition } from '../orchestrator/schedule.js';
import { s3Lister, sourceLister } from '../orchestrator/source-listers.js';
import { SourceSensor } from '../orchestrator/source-sensor.js';
import { createSource } from '../sources/create-source.js';
import { RetryingSource, type RetryOptions } from '../sources/retrying-source.js';
import { createS3Client } from '../sources/s3-client.js';
import type { SourceError } from '../sources/source.js';

/** The built-in automation of the billing pipeline: which sensors and schedules exist, from config. */

export const DAILY_SCHEDULE = 'daily_billing';
export const S3_SENSOR = 's3_partition_sensor';
export const FILE_SENSOR = 'local_file_sensor';

export interface SensorSpec {
  name: string;
  kind: 's3' | 'file';
  intervalSeconds: number;
  description: string;
}

const isS3 = (source: string) => /^s3:\/\//i.test(source);

/** One sensor for the configured source: S3 partitions, or a local folder; none without a source. */
export function sensorSpecs(config: Config): SensorSpec[] {
  const { source, automation } = config;
  if (!source) return [];
  if (isS3(source)) {
    return [
      {
        name: S3_SENSOR,
        kind: 's3',
        intervalSeconds: automation.s3SensorIntervalSeconds,
        description: `new partitions and new or re-uploaded files in ${source} (full listing every ${automation.s3SensorReconcileSeconds} s)`,
      },
    ];
  }
  return [
    {
      name: FILE_SENSOR,
      kind: 'file',
      intervalSeconds: automation.fileSensorIntervalSeconds,
      description: `new or changed files (size, mtime, ctime and inode) in ${source}`,
    },
  ];
}

export function scheduleDefinitions(config: Config): ScheduleDefinition[] {
  try {
    return [
      dailyPartitionSchedule({
        name: DAILY_SCHEDULE,
        cron: {
          expression: config.automation.dailyScheduleCron,
          timezone: config.automation.scheduleTimezone,
        },
      }),
    ];
  } catch (error) {
    if (error instanceof CronError) throw new ConfigError(`BILLING_DAILY_SCHEDULE_CRON: ${error.message}`);
    throw error;
  }
}

export function retryOptions(config: Config): RetryOptions {
  return {
    retries: config.automation.sourceRetries,
    baseDelayMs: config.automation.sourceRetryBaseMs,
    maxDelayMs: config.automation.sourceRetryMaxMs,
  };
}

export interface SensorHooks {
  log?: (line: string) => void;
  /** Every error the sensor's listing raises, retried or not (metrics). */
  onSourceError?: (error: SourceError) => void;
}

/** A live sensor for a spec, with what it must release when the daemon stops. */
export function createSensor(
  config: Config,
  spec: SensorSpec,
  store: AutomationStore,
  hooks: SensorHooks = {},
): { sensor: SourceSensor; close(): Promise<void> } {
  const { log, onSourceError } = hooks;
  const source = config.source ?? '';
  if (spec.kind === 's3') {
    const client = createS3Client(config.env);
    // Retries are otherwise invisible: a tick that is slow because S3 throttles should say so.
    const retry: RetryOptions = {
      ...retryOptions(config),
      onError: onSourceError,
      onRetry: ({ attempt, delayMs, error }) =>
        log?.(`sensor ${spec.name}: ${error.message}; retry ${attempt} in ${delayMs} ms`),
    };
    const sensor = new SourceSensor({
      name: spec.name,
      kind: spec.kind,
      lister: s3Lister({ client, uri: source, retry }),
      store,
      intervalSeconds: spec.intervalSeconds,
      reconcileSeconds: config.automation.s3SensorReconcileSeconds,
    });
    return { sensor, close: async () => client.destroy() };
  }
  const local = createSource(source, config.env);
  const sensor = new SourceSensor({
    name: spec.name,
    kind: spec.kind,
    // No retries for a local folder (as before); the wrapper only reports its errors.
    lister: sourceLister(
      onSourceError
        ? new RetryingSource(local, { retries: 0, baseDelayMs: 0, maxDelayMs: 0, onError: onSourceError })
        : local,
    ),
    store,
    intervalSeconds: spec.intervalSeconds,
  });
  return { sensor, close: () => local.close() };
}
