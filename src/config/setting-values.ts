import { validateCron } from '../orchestrator/cron-ticks.js';
import {
  OTHER_VARIABLES,
  SELF_CHECKED_PREFIXES,
  SETTINGS,
  type SettingDef,
  type SettingValue,
} from './settings.js';

/** Validating setting values, redacting them, and suggesting the nearest known name. */

export type Parsed = { ok: true; value: SettingValue } | { ok: false; message: string };

const quoted = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);

const MEMORY = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

function integer(value: unknown, min: number): Parsed {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
    return {
      ok: false,
      message: `${quoted(value)} is not a whole number${min === 0 ? ' (0 or more)' : ' of 1 or more'}`,
    };
  return { ok: true, value: n };
}

/** What a setting that takes a path or inline YAML expects, when it got neither. */
const SECTION_EXPECTED: Partial<Record<SettingDef['kind'], string>> = {
  checks: 'expected a path to a checks YAML, or a mapping of check settings',
  budgets: 'expected a path to a budgets YAML, or a list of budgets',
  alerts: 'expected a path to an alerts YAML, or a mapping of alert settings',
};

/**
 * Validates one value from a variable, the file or a flag. Variables and flags are always
 * strings; the file may hold numbers. Empty strings were dropped before (they mean "unset").
 */
export function parseSetting(def: SettingDef, value: unknown): Parsed {
  if (def.kind === 'positive-int') return integer(value, 1);
  if (def.kind === 'non-negative-int') return integer(value, 0);
  const mapping = typeof value === 'object' && value !== null && !Array.isArray(value);
  if ((def.kind === 'checks' || def.kind === 'alerts') && mapping)
    return { ok: true, value: value as Record<string, unknown> };
  if (def.kind === 'budgets' && Array.isArray(value)) return { ok: true, value };
  if (typeof value !== 'string')
    return { ok: false, message: SECTION_EXPECTED[def.kind] ?? 'expected a string' };
  const text = value.trim();
  switch (def.kind) {
    case 'text':
    case 'path':
    case 'location':
    case 'secret':
    case 'checks':
    case 'budgets':
    case 'alerts':
      return { ok: true, value: text };
    case 'ingest-parser':
      return text === 'native' || text === 'js'
        ? { ok: true, value: text }
        : { ok: false, message: `${quoted(value)} is not a parser: expected native or js` };
    case 'memory':
      return MEMORY.test(text)
        ? { ok: true, value: text.replace(/\s+/g, '') }
        : { ok: false, message: `${quoted(value)} is not a memory size like 1GB or 512MB` };
    case 'currency':
      return /^[A-Za-z]{3}$/.test(text)
        ? { ok: true, value: text.toUpperCase() }
        : { ok: false, message: `${quoted(value)} is not a three-letter currency code like USD` };
    case 'timezone':
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: text });
        return { ok: true, value: text };
      } catch {
        return { ok: false, message: `${quoted(value)} is not an IANA time zone like UTC or Europe/Berlin` };
      }
    case 'cron':
      try {
        validateCron({ expression: text, timezone: 'UTC' });
        return { ok: true, value: text };
      } catch (error) {
        return {
          ok: false,
          message: `${quoted(value)} is not a cron expression: ${(error as Error).message}`,
        };
      }
    case 'postgres-url': {
      let ok = /^postgres(ql)?:\/\//.test(text);
      try {
        new URL(text);
      } catch {
        ok = false;
      }
      return ok
        ? { ok: true, value: text }
        : {
            ok: false,
            message: `${quoted(redactUrl(text))} is not a postgres:// URL like postgres://user:password@host:5432/billing`,
          };
    }
    default: {
      const unreachable: never = def.kind;
      throw new Error(`unknown setting kind ${String(unreachable)}`);
    }
  }
}

/** A database URL without its password, for records and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest of `candidates`, when it is close enough to be a likely typo. */
export function nearest(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** Warnings for BILLING_* variables no setting reads, with the nearest known name. */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = [...SETTINGS.map((s) => s.env), ...OTHER_VARIABLES];
  const knownSet = new Set(known);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('BILLING_') || knownSet.has(name)) continue;
    if (SELF_CHECKED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const near = nearest(name, known);
    warnings.push(
      `${name} is not a known setting${near ? `; did you mean ${near}?` : ' (see the Configuration section of the README)'}`,
    );
  }
  return warnings;
}
