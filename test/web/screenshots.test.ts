import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtEntry, HEIGHT, makeScreenshots, shots, WIDTH } from '../../src/dev/screenshots.js';
import { tmpDir } from '../support/tmp.js';
import { buildWebUi, CHROMIUM, chromiumAvailable } from './e2e-support.js';

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * The screenshot script (src/dev/screenshots.ts, which regenerates docs/screenshots) run into a
 * temp folder against a UI built from source just now: every image is written, at the size the
 * docs expect, and from this build (the page's entry script is the fresh build's).
 */
describe.skipIf(!chromiumAvailable())('screenshot script', () => {
  it('shoots every page from the current build', async () => {
    const webRoot = await buildWebUi();
    const outDir = await tmpDir('shots');
    const manifest = await makeScreenshots({ outDir, webRoot, rowsPerDay: 200, chromium: CHROMIUM });
    expect(manifest.build).toBe(await builtEntry(webRoot));
    expect(manifest.build).toMatch(/\/index-[\w-]+\.js$/);
    const names = shots().map((s) => s.name);
    expect(manifest.images.map((i) => i.name)).toEqual(names);
    expect(names).toContain('insights');
    for (const image of manifest.images) {
      const size = pngSize(await readFile(path.join(outDir, image.file)));
      expect(size, image.name).toEqual({ width: WIDTH, height: HEIGHT });
    }
    const saved = JSON.parse(await readFile(path.join(outDir, 'manifest.json'), 'utf8')) as typeof manifest;
    expect(saved.build).toBe(manifest.build);
    expect(saved.data).toMatchObject({ seed: 42, days: 30, rowsPerDay: 200 });
  }, 300_000);
});
