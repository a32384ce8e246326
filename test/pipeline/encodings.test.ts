import { describe, expect, it } from 'vitest';
import { csv, HEADER, row, testPipeline } from '../support/pipeline.js';

const DAY = 'year=2025/month=04/day=23';

describe('files that are not UTF-8 text with line feeds', () => {
  it('rejects a row with Latin-1 bytes with its line, never a silent U+FFFD, and names UTF-16 and CR-only files', async () => {
    const p = await testPipeline('encodings');
    await p.put(`${DAY}/good.csv`, csv(row({ user_id: '1' })));
    await p.materialize();
    // Line 3 holds "vm-Z\xFCrich", Latin-1 for Zürich.
    const latin1 = Buffer.concat([
      Buffer.from(`${HEADER}\n${row({ user_id: '2' })}\n`, 'utf8'),
      Buffer.from(row({ user_id: '3', resource_id: 'vm-Z\u00fcrich' }), 'latin1'),
      Buffer.from(`\n${row({ user_id: '4', region: 'eu-central-1' })}\n`, 'utf8'),
    ]);
    await p.put(`${DAY}/latin1.csv`, latin1);
    const text = csv(row({ user_id: '5' }));
    await p.put(
      `${DAY}/utf16le-bom.csv`,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    await p.put(`${DAY}/utf16le.csv`, Buffer.from(text, 'utf16le'));
    const be = Buffer.from(text, 'utf16le').swap16();
    await p.put(`${DAY}/utf16be-bom.csv`, Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    await p.put(`${DAY}/cr-only.csv`, text.replaceAll('\n', '\r'));
    expect((await p.materialize()).status).toBe('success');

    expect(await p.rows('SELECT user_id FROM billing_events ORDER BY user_id')).toEqual([
      { user_id: 1 },
      { user_id: 2 },
      { user_id: 4 },
    ]);
    const [rejected] = await p.rows('SELECT source_key, line_number, reason, raw FROM rejected_rows');
    expect(rejected).toMatchObject({
      source_key: `${DAY}/latin1.csv`,
      line_number: 3,
      // '2025-04-23T10:00:00Z,vm-Z' is 25 bytes: the 26th is 0xFC.
      reason: 'invalid UTF-8 at byte 26 of the line (0xFC): the file must be UTF-8',
    });
    expect(String(rejected?.raw)).toContain('vm-Z\\xFCrich');
    // Nothing anywhere holds a replacement character.
    expect(
      await p.rows(
        "SELECT count(*) AS n FROM billing_events WHERE resource_id LIKE '%\uFFFD%' OR region LIKE '%\uFFFD%'",
      ),
    ).toEqual([{ n: 0 }]);

    expect(await p.rows('SELECT source_key, reason FROM rejected_files ORDER BY source_key')).toEqual([
      {
        source_key: `${DAY}/cr-only.csv`,
        reason:
          'CR-only line endings (no line feed after the header): export the file with LF or CRLF line endings',
      },
      {
        source_key: `${DAY}/utf16be-bom.csv`,
        reason: 'UTF-16 encoded file (byte order mark FE FF): export it as UTF-8',
      },
      {
        source_key: `${DAY}/utf16le-bom.csv`,
        reason: 'UTF-16 encoded file (byte order mark FF FE): export it as UTF-8',
      },
      {
        source_key: `${DAY}/utf16le.csv`,
        reason: 'UTF-16 encoded file (every other byte of the header is NUL): export it as UTF-8',
      },
    ]);
  });
});
