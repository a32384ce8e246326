import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tick } from '../../src/orchestrator/automation-store.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { type CliResult, cli, eventually, type ServeProcess, startServe } from './daemon-support.js';

const SENSOR = 's3_partition_sensor';
const SCHEDULE = 'daily_billing';

const ticksOf = async (daemon: ServeProcess, kind: 'sensors' | 'schedules', name: string) =>
  (await daemon.api<{ ticks: Tick[] }>('GET', `/api/${kind}/${name}/ticks?limit=100`)).ticks;

/** Waits until `name` has recorded a tick that `accept` likes. */
const tickWhere = (
  daemon: ServeProcess,
  kind: 'sensors' | 'schedules',
  name: string,
  accept: (tick: Tick) => boolean,
) =>
  eventually(
    async () => (await ticksOf(daemon, kind, name)).find(accept),
    `a ${name} tick like ${accept.toString()}`,
  );

function ok(result: CliResult): string {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

describe('sensor and schedule state', () => {
  it('survives restarts, with or without a daemon, and every tick is recorded', async () => {
    const p = await testPipeline('instigator-state');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
    const env = {
      ...p.env,
      BILLING_SOURCE: p.source,
      BILLING_HOME: path.join(p.home, 'state'),
      // Every second, so the test sees ticks, dedupe and missed ticks without waiting for midnight.
      BILLING_DAILY_SCHEDULE_CRON: '* * * * * *',
      BILLING_S3_SENSOR_INTERVAL: '1',
    };

    // No daemon: the switch is saved and applies at the next start.
    expect(ok(await cli(env, 'schedules', 'start', SCHEDULE))).toMatch(
      /schedule daily_billing started \(no daemon is running/,
    );
    const first = await startServe(env);
    expect(first.output()).toMatch(/sensors: s3_partition_sensor \(off\); schedules: daily_billing \(on\)/);

    // Through the daemon: the loop starts at once.
    expect(ok(await cli(env, 'sensors', 'start', SENSOR))).toBe(`sensor ${SENSOR} started\n`);
    const requested = await tickWhere(first, 'sensors', SENSOR, (t) => t.outcome === 'requested');
    expect(requested.run_ids).toHaveLength(1);
    expect(requested.cursor_before).toBeNull();
    expect(JSON.parse(requested.cursor_after ?? '{}')).toMatchObject({ seq: 1, files: 1, partitions: 1 });
    await tickWhere(
      first,
      'sensors',
      SENSOR,
      (t) => t.outcome === 'skipped' && t.tick_id > requested.tick_id,
    );

    // The schedule asks for yesterday once; later ticks the same day hit the run key.
    const scheduled = await tickWhere(first, 'schedules', SCHEDULE, (t) => t.outcome === 'requested');
    await tickWhere(
      first,
      'schedules',
      SCHEDULE,
      (t) =>
        t.tick_id > scheduled.tick_id &&
        /run key daily_billing:\d{4}-\d{2}-\d{2} was already used/.test(t.skip_reason ?? ''),
    );

    expect(ok(await cli(env, 'sensors', 'stop', SENSOR))).toBe(`sensor ${SENSOR} stopped\n`);
    const listed = JSON.parse(ok(await cli(env, 'sensors', 'list', '--format', 'json'))) as {
      name: string;
      enabled: boolean;
    }[];
    expect(listed).toEqual([expect.objectContaining({ name: SENSOR, enabled: false })]);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    // Down for longer than two cron periods: a restart quicker than one second misses no tick at all.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    // After a restart: the sensor stays off, the schedule on, and the downtime shows as missed ticks.
    const second = await startServe(env);
    expect(second.output()).toMatch(/sensors: s3_partition_sensor \(off\); schedules: daily_billing \(on\)/);
    const missed = await tickWhere(second, 'schedules', SCHEDULE, (t) =>
      /tick\(s\) from .* were missed while the daemon was not running; policy: only the latest missed tick runs, once/.test(
        t.skip_reason ?? '',
      ),
    );
    expect(missed.outcome).toBe('skipped');
    const sensorTicks = (await ticksOf(second, 'sensors', SENSOR)).length;
    const shown = JSON.parse(
      ok(await cli(env, 'schedules', 'ticks', SCHEDULE, '--format', 'json')),
    ) as Tick[];
    expect(shown.map((t) => t.tick_id)).toContain(missed.tick_id);
    // Stopped means stopped: no sensor tick since.
    expect((await ticksOf(second, 'sensors', SENSOR)).length).toBe(sensorTicks);
    expect(await second.stop()).toEqual({ code: 0, signal: null });

    // `dev` switches everything on, and that too is saved.
    const dev = await startServe(env, 'dev');
    expect(dev.output()).toMatch(/sensors: s3_partition_sensor \(on\); schedules: daily_billing \(on\)/);
    expect(await dev.stop()).toEqual({ code: 0, signal: null });
    const offline = JSON.parse(ok(await cli(env, 'sensors', '--format', 'json'))) as { enabled: boolean }[];
    expect(offline.map((s) => s.enabled)).toEqual([true]);
  });
});
