import { SCHEMA_COLUMNS } from '../schema.js';

/** The field separators a billing export is read with, in order of preference on a tie. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;

const NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' };
const SCHEMA = new Set<string>(SCHEMA_COLUMNS);

/**
 * The delimiter of a file, from its header line: the candidate that splits it into the most schema
 * column names (quotes around a name ignored). Exports from spreadsheets in many locales use `;`,
 * database tools tab or `|`; a header naming no schema column at all is read as comma-separated.
 */
export function detectDelimiter(headerLine: string): string {
  let best = ',';
  let bestScore = 0;
  for (const delimiter of DELIMITERS) {
    let score = 0;
    for (const name of headerLine.split(delimiter)) {
      const key = name
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim()
        .toLowerCase();
      if (SCHEMA.has(key)) score++;
    }
    if (score > bestScore) {
      best = delimiter;
      bestScore = score;
    }
  }
  return best;
}

/** A delimiter as a reader names it: `semicolon (;)`, `tab`. */
export function delimiterName(delimiter: string): string {
  const name = NAMES[delimiter] ?? JSON.stringify(delimiter);
  return delimiter === '\t' ? name : `${name} (${delimiter})`;
}
