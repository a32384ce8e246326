import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../test/support/tmp.js';
import { channelWants, DEFAULT_ALERTS_CONFIG, loadAlertsConfig } from './alert-config.js';

describe('loadAlertsConfig', () => {
  it('defaults: every rule on, 6 h freshness grace, no channels, resolved events sent', async () => {
    const config = await loadAlertsConfig(null, {});
    expect(config).toBe(DEFAULT_ALERTS_CONFIG);
    expect(Object.values(config.rules).every((r) => r.enabled)).toBe(true);
    expect(config.rules.freshness.grace_hours).toBe(6);
    expect(config.channels).toEqual([]);
    expect(config.send_resolved).toBe(true);
    expect(config.delivery).toEqual({
      max_attempts: 8,
      initial_delay_ms: 1000,
      max_delay_ms: 300000,
      timeout_ms: 10000,
    });
    expect(config.declared).toEqual([]);
  });

  it('reads the inline mapping, keeps defaults for the rest, resolves secrets and channel filters', async () => {
    const config = await loadAlertsConfig(
      {
        value: {
          rules: { run_failed: { enabled: false }, freshness: { grace_hours: 2 } },
          channels: [
            { name: 'ops', type: 'webhook', url: 'https://hooks.example.com/b', secret_env: 'HOOK_SECRET' },
            { name: 'chat', type: 'slack', url: 'http://127.0.0.1:8080/s', rules: ['budget_threshold'] },
          ],
          send_resolved: false,
          delivery: { max_attempts: 3 },
        },
        origin: 'billing-pipeline.yaml:4',
      },
      { HOOK_SECRET: 's3cret' },
    );
    expect(config.rules.run_failed.enabled).toBe(false);
    expect(config.rules.freshness).toEqual({ enabled: true, grace_hours: 2 });
    expect(config.declared).toEqual(['freshness', 'run_failed']);
    expect(config.channels.map((c) => [c.name, c.secret])).toEqual([
      ['ops', 's3cret'],
      ['chat', null],
    ]);
    const [ops, chat] = config.channels;
    expect(ops && channelWants(ops, 'run_failed')).toBe(true);
    expect(chat && channelWants(chat, 'run_failed')).toBe(false);
    expect(chat && channelWants(chat, 'budget_threshold')).toBe(true);
    expect(config.send_resolved).toBe(false);
    expect(config.delivery.max_attempts).toBe(3);
    expect(config.delivery.max_delay_ms).toBe(300000);
  });

  it('names the inline origin and key path of every problem', async () => {
    const load = (value: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
      loadAlertsConfig({ value, origin: 'billing-pipeline.yaml:4' }, env);
    await expect(load({ rules: { budget: { enabled: true } } })).rejects.toThrow(
      'invalid alert settings: billing-pipeline.yaml:4: rules.budget: not a known setting',
    );
    await expect(load({ channels: [{ name: 'a', type: 'email', url: 'ftp://x' }] })).rejects.toThrow(
      /channels\.0\.type: .*; billing-pipeline\.yaml:4: channels\.0\.url: must be an http\(s\) URL/,
    );
    await expect(
      load({
        channels: [
          { name: 'a', type: 'slack', url: 'http://h/' },
          { name: 'a', type: 'webhook', url: 'http://h/' },
        ],
      }),
    ).rejects.toThrow('billing-pipeline.yaml:4: channels.1.name: duplicate channel name a');
    // Not a start-up error (every command reads the settings): the channel sends nothing unsigned.
    const unsigned = await load({
      channels: [{ name: 'a', type: 'webhook', url: 'http://h/', secret_env: 'NOPE' }],
    });
    expect(unsigned.channels[0]?.secret).toBeNull();
    expect(unsigned.channels[0]?.secretProblem).toContain(
      'alerts: of billing-pipeline.yaml:4: channels.0.secret_env: NOPE is not set',
    );
    await expect(load({ delivery: { initial_delay_ms: 5000, max_delay_ms: 10 } })).rejects.toThrow(
      'delivery.max_delay_ms: max_delay_ms must be at least initial_delay_ms',
    );
  });

  it('names file:line and key for a YAML file', async () => {
    const dir = await tmpDir('alerts-config');
    const file = path.join(dir, 'alerts.yaml');
    await writeFile(
      file,
      [
        'rules:',
        '  freshness:',
        '    grace_hours: -1',
        'channels:',
        '  - name: ops',
        '    type: webhook',
        '    url: http://h/',
        '    colour: red',
        '',
      ].join('\n'),
    );
    const error = await loadAlertsConfig({ value: file, origin: 'BILLING_ALERTS_CONFIG' }, {}).catch(
      (e: Error) => e,
    );
    expect(String(error)).toContain(`${file}:3: rules.freshness.grace_hours:`);
    expect(String(error)).toContain(`${file}:8: channels.0.colour: not a known setting`);

    await writeFile(file, 'rules: [unclosed\n');
    await expect(loadAlertsConfig({ value: file, origin: 'BILLING_ALERTS_CONFIG' }, {})).rejects.toThrow(
      `${file}:2: not valid YAML`,
    );
    await expect(
      loadAlertsConfig({ value: path.join(dir, 'missing.yaml'), origin: 'BILLING_ALERTS_CONFIG' }, {}),
    ).rejects.toThrow('BILLING_ALERTS_CONFIG: alerts: cannot read');

    await writeFile(file, 'send_resolved: false\nrules:\n  check_failed: { enabled: false }\n');
    const ok = await loadAlertsConfig({ value: file, origin: 'BILLING_ALERTS_CONFIG' }, {});
    expect(ok.send_resolved).toBe(false);
    expect(ok.rules.check_failed.enabled).toBe(false);
    expect(ok.declared).toEqual(['check_failed']);
  });
});
