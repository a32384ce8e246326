import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addFigure, type BenchContext, freshDir, generateData, MB, seconds } from '../context.js';

const S = 'generator';

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Section 5: `billing-pipeline generate` into a local folder, plain CSV and `--gzip`, wall time of the child. */
export async function generator(ctx: BenchContext): Promise<void> {
  const { days, rowsPerDay } = ctx.sizes.generator;
  const rows = days * rowsPerDay;
  const details: Record<string, unknown> = { days, rowsPerDay, rows };
  for (const gzip of [false, true]) {
    const label = gzip ? '--gzip' : 'plain';
    const walls: number[] = [];
    let bytes = 0;
    for (let rep = 1; rep <= ctx.options.reps; rep++) {
      const dir = await freshDir(ctx, 'gen');
      walls.push((await generateData(ctx, { to: dir, from: 1, through: days, rowsPerDay, gzip })).wallMs);
      bytes = await folderBytes(dir);
    }
    await freshDir(ctx, 'gen');
    ctx.log(`[${S}] ${label}: ${walls.map((w) => `${seconds(w).toFixed(2)} s`).join(', ')}`);
    const note = `${rows.toLocaleString('en-US')} rows, ${(bytes / MB).toFixed(0)} MB written`;
    addFigure(
      ctx,
      S,
      `generate ${label} to a folder: rows/s`,
      'rows/s',
      walls.map((w) => rows / seconds(w)),
      note,
    );
    addFigure(
      ctx,
      S,
      `generate ${label} to a folder: output MB/s`,
      'MB/s',
      walls.map((w) => bytes / MB / seconds(w)),
    );
    details[gzip ? 'gzip' : 'plain'] = { wallMs: walls, bytes };
  }
  ctx.details.generator = details;
}
