import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { escapeControlChars, jsonText } from '../../src/cli/format.js';
import { type CliResult, cli as runCli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';

/*
 * Data that attacks its reader: a region holding ESC sequences (a window-title OSC, a screen clear,
 * a colour), BEL, CR and a bidi override. Nothing of it may reach the terminal raw.
 */
const HOSTILE_REGION = 'eu\u001b]0;owned\u0007\u001b[2J\u001b[31mred\r\u202ekcah\u009b';
/** Every character a terminal acts on, as the test checks the output for them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let p: TestPipeline;
let env: Record<string, string>;
const cli = (...args: string[]): Promise<CliResult> => runCli(env, ...args);

beforeAll(async () => {
  p = await testPipeline('cli-terminal');
  env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
  // Quoted, since the region holds no comma but the CSV reader must take it as one field.
  await p.put(
    'year=2025/month=04/day=23/a.csv',
    csv(row({ user_id: '7', region: `"${HOSTILE_REGION}"` }), row({ user_id: '8' })),
  );
  const result = await cli('materialize');
  expect(result.code, result.stderr).toBe(0);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function setTerminal(isTTY: boolean): void {
  const saved = process.stdout.isTTY;
  Object.defineProperty(process.stdout, 'isTTY', { value: isTTY, configurable: true });
  onTestFinished(() => {
    Object.defineProperty(process.stdout, 'isTTY', { value: saved, configurable: true });
  });
}

describe('terminal output escapes control characters from the data', () => {
  it('the region was stored exactly (the data itself is kept)', async () => {
    const rows = await p.rows('SELECT region FROM billing_events WHERE user_id = 7');
    expect(rows).toEqual([{ region: HOSTILE_REGION }]);
  });

  it('query --format table shows them as visible escapes', async () => {
    const result = await cli(
      'query',
      'SELECT region FROM billing_events ORDER BY user_id',
      '--format',
      'table',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout).toContain('eu\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\r\\u202ekcah\\x9b');
    // The escaped text is what the column is aligned on: three lines of the same width plus the second row.
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('-'.repeat(lines[2]?.length ?? 0));
  });

  it('query --format csv keeps exact values when piped, and escapes them on a terminal', async () => {
    setTerminal(false);
    const piped = await cli(
      'query',
      'SELECT region FROM billing_events WHERE user_id = 7',
      '--format',
      'csv',
    );
    // A CR inside a value makes RFC 4180 quote the field; the bytes are the stored ones.
    expect(piped.stdout).toBe(`region\n"${HOSTILE_REGION}"\n`);
    setTerminal(true);
    const shown = await cli(
      'query',
      'SELECT region FROM billing_events WHERE user_id = 7',
      '--format',
      'csv',
    );
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
    expect(shown.stdout).toBe(`region\n"${escapeControlChars(HOSTILE_REGION)}"\n`);
  });

  it('query --format json escapes what JSON.stringify leaves raw and still decodes to the value', async () => {
    const result = await cli(
      'query',
      'SELECT region FROM billing_events WHERE user_id = 7',
      '--format',
      'json',
    );
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(result.stdout)).toEqual([{ region: HOSTILE_REGION }]);
  });

  it('insights prints the region escaped', async () => {
    const result = await cli('insights');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout).toContain('\\x1b]0;owned\\x07');
  });

  it('lineage tables of source rows are escaped too', async () => {
    const result = await cli('lineage', 'billing_events', '--partition', '2025-04-23', '--rows', '5');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
  });

  it('query --help says what the CSV output does', async () => {
    const result = await cli('query', '--help');
    expect(result.stdout).toMatch(/RFC 4180/);
    expect(result.stdout).toMatch(/NOT neutralised for spreadsheets/);
  });
});

describe('escapeControlChars and jsonText', () => {
  it('escapes C0, DEL, C1 and bidi controls; leaves other text and, on request, newlines alone', () => {
    expect(escapeControlChars('a\u0000b\u001bc\u007fd\u0085e\u2066f\tg\nh')).toBe(
      'a\\x00b\\x1bc\\x7fd\\x85e\\u2066f\\tg\\nh',
    );
    expect(escapeControlChars('line 1\nline\u00072', { keepNewlines: true })).toBe('line 1\nline\\x072');
    expect(escapeControlChars('Zürich € 東京 \\x1b')).toBe('Zürich € 東京 \\x1b');
  });

  it('jsonText round-trips', () => {
    const value = [{ s: 'a\u009bb\u202ec\u007f', n: 1 }];
    expect(jsonText(value)).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(jsonText(value))).toEqual(value);
  });
});

describe('run output quoting hostile file keys', () => {
  it('materialize and runs show escape control characters in keys and reasons', async () => {
    const q = await testPipeline('cli-terminal-keys');
    const keyEnv = { ...q.env, BILLING_SOURCE: q.source, BILLING_HOME: join(q.home, 'state') };
    await q.put('year=2025/month=04/day=23/ok.csv', csv(row()));
    // A key with ESC sequences and a file that is rejected whole: the key is in the run's messages.
    await q.put('year=2025/month=04/day=23/\u001b]0;owned\u0007\u001b[2J.csv', 'just,one,column\n1,2,3\n');
    const run = await runCli(keyEnv, 'materialize');
    expect(run.stdout).toMatch(/1 file\(s\) rejected/);
    expect(run.stdout + run.stderr).not.toMatch(RAW_CONTROL);
    const runId = /run (\S+)/.exec(run.stdout)?.[1] ?? '';
    const shown = await runCli(keyEnv, 'runs', 'show', runId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/\\x1b\]0;owned\\x07/);
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
  });
});
