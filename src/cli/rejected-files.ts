import type { Warehouse } from '../warehouse/warehouse.js';
import { escapeControlChars } from './format.js';

/** The files a run rejected whole (current state: a later version that loads removes its row). */
export const RUN_REJECTED_FILES_SQL = `SELECT source_key, reason FROM rejected_files
  WHERE run_id = $1 ORDER BY source_key LIMIT $2`;

/** How many rejected files the summary names; the rest are counted. */
const SHOWN = 10;

export interface RejectedFile {
  source_key: string;
  reason: string;
}

export async function runRejectedFiles(warehouse: Warehouse, runId: string): Promise<RejectedFile[]> {
  return warehouse.all<RejectedFile>(RUN_REJECTED_FILES_SQL, [runId, SHOWN]);
}

/**
 * A file rejected whole contributes nothing, and a run with one still succeeds: the summary gives
 * it a block of its own (red on a terminal), each file with its reason, so it is not missed.
 */
export function rejectedFilesBlock(count: number, files: readonly RejectedFile[], color: boolean): string {
  const red = (text: string) => (color ? `\u001b[31m${text}\u001b[39m` : text);
  const lines = [red(`Rejected files: ${count} (not loaded; see table rejected_files)`)];
  for (const file of files)
    lines.push(red(`  ✗ ${escapeControlChars(file.source_key)}: ${escapeControlChars(file.reason)}`));
  if (count > files.length) lines.push(`  … and ${count - files.length} more`);
  return lines.join('\n');
}
