import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { SettingError } from '../../config/errors.js';
import {
  BUDGET_ID_PATTERN,
  type Budget,
  type BudgetPeriod,
  type BudgetScope,
  budgetBody,
  DEFAULT_THRESHOLDS,
} from './budget.js';
import { toMicros } from './decimal.js';

/** One problem with a budget, by field: `amount`, `scope.user`, `thresholds.2`. */
export interface BudgetFieldError {
  path: string;
  message: string;
}

const SCOPE_KINDS = ['user', 'region', 'service_tier', 'resource_type'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const AMOUNT = /^\d+(\.\d{1,6})?$/;

function validDay(value: unknown): string | null {
  const text = value instanceof Date ? value.toISOString().slice(0, 10) : value;
  if (typeof text !== 'string' || !DAY.test(text)) return null;
  return new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text ? text : null;
}

// `.optional()` first: a budget without `scope:` (or `period:`) takes the default, all / monthly.
const scopeSchema = z
  .unknown()
  .optional()
  .transform((input, ctx): BudgetScope => {
    if (input === 'all' || input === undefined) return { kind: 'all' };
    if (input && typeof input === 'object' && !Array.isArray(input)) {
      const entries = Object.entries(input);
      const [entry] = entries;
      const kind = SCOPE_KINDS.find((k) => k === entry?.[0]);
      if (entries.length === 1 && entry && kind) {
        const raw = entry[1];
        const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
        if (typeof value === 'string' && value.trim() !== '') {
          if (kind === 'user' && !/^-?\d{1,18}$/.test(value.trim())) {
            ctx.addIssue({ code: 'custom', path: ['user'], message: 'a user id is an integer' });
            return z.NEVER;
          }
          return { kind, value: value.trim() };
        }
        ctx.addIssue({ code: 'custom', path: [kind], message: `expected a ${kind} value` });
        return z.NEVER;
      }
    }
    ctx.addIssue({
      code: 'custom',
      message:
        'expected "all" or one of { user: ID } | { region: R } | { service_tier: T } | { resource_type: T }',
    });
    return z.NEVER;
  });

const periodSchema = z
  .unknown()
  .optional()
  .transform((input, ctx): BudgetPeriod => {
    if (input === 'monthly' || input === undefined) return { kind: 'monthly' };
    if (input && typeof input === 'object' && !Array.isArray(input)) {
      const { from, to, ...rest } = input as Record<string, unknown>;
      const extra = Object.keys(rest);
      const start = validDay(from);
      const end = validDay(to);
      if (extra.length > 0) ctx.addIssue({ code: 'custom', message: `unknown keys ${extra.join(', ')}` });
      if (!start) ctx.addIssue({ code: 'custom', path: ['from'], message: 'expected a day YYYY-MM-DD' });
      if (!end) ctx.addIssue({ code: 'custom', path: ['to'], message: 'expected a day YYYY-MM-DD' });
      if (start && end && start > end)
        ctx.addIssue({ code: 'custom', path: ['to'], message: `is before from (${start})` });
      if (extra.length > 0 || !start || !end || start > end) return z.NEVER;
      return { kind: 'range', from: start, to: end };
    }
    ctx.addIssue({ code: 'custom', message: 'expected "monthly" or { from: YYYY-MM-DD, to: YYYY-MM-DD }' });
    return z.NEVER;
  });

const amountSchema = z.unknown().transform((input, ctx): string => {
  const text = typeof input === 'number' && Number.isFinite(input) ? String(input) : input;
  if (typeof text !== 'string' || !AMOUNT.test(text.trim())) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a positive amount with at most 6 decimals, e.g. "50000" or 1250.5',
    });
    return z.NEVER;
  }
  const micros = toMicros(text.trim());
  if (micros <= 0n || micros >= 10n ** 38n) {
    ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
    return z.NEVER;
  }
  return text.trim();
});

const thresholdsSchema = z
  .array(z.number().int('thresholds are whole percents').min(1).max(1000))
  .min(1)
  .max(20)
  .refine((t) => t.every((v, i) => i === 0 || v > (t[i - 1] ?? 0)), 'thresholds must be strictly ascending')
  .optional();

/** The YAML shape of one budget; the API body is the same as JSON. */
export const budgetInputSchema = z.strictObject({
  id: z
    .string()
    .regex(BUDGET_ID_PATTERN, 'an id is 1-64 of a-z, 0-9, _ and -, starting with a letter or digit'),
  name: z.string().trim().min(1).max(200).optional(),
  scope: scopeSchema,
  period: periodSchema,
  amount: amountSchema,
  thresholds: thresholdsSchema,
});

type Parsed = { ok: true; budget: Budget } | { ok: false; errors: BudgetFieldError[] };

function parseOne(input: unknown, origin: Budget['origin'], declaredAt: string): Parsed {
  const result = budgetInputSchema.safeParse(input);
  if (!result.success) {
    const errors = result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'not a budget field' }))
        : [
            {
              path: issue.path.join('.') || '(budget)',
              // zod's "expected string, received undefined" for a field left out.
              message:
                issue.code === 'invalid_type' && /received undefined/.test(issue.message)
                  ? 'is required'
                  : issue.message,
            },
          ],
    );
    return { ok: false, errors };
  }
  const b = result.data;
  return {
    ok: true,
    budget: {
      id: b.id,
      name: b.name ?? b.id,
      scope: b.scope,
      period: b.period,
      amount: b.amount,
      thresholds: [...(b.thresholds ?? DEFAULT_THRESHOLDS)],
      origin,
      declaredAt,
    },
  };
}

/** Validates an API body (the YAML shape as JSON); `id` may come from the URL. */
export function validateBudgetInput(json: unknown, id?: string): Parsed {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    return { ok: false, errors: [{ path: '(body)', message: 'expected a JSON object' }] };
  const body = id === undefined ? json : { ...json, id };
  if (id !== undefined && 'id' in json && (json as { id: unknown }).id !== id)
    return { ok: false, errors: [{ path: 'id', message: `does not match the URL (${id})` }] };
  return parseOne(body, 'api', 'api');
}

export interface LoadBudgetsOptions {
  /** `config.budgetsSetting`. */
  setting: { value: string | unknown[]; origin: string } | null;
  /** `config.configFile`: where inline budgets' lines are looked up. */
  configFile: string | null;
}

/** The budgets declared in the file (inline or a separate YAML list); every problem names file:line and key. */
export async function loadFileBudgets(options: LoadBudgetsOptions): Promise<Budget[]> {
  const { setting } = options;
  if (!setting) return [];
  if (typeof setting.value === 'string') {
    let text: string;
    try {
      text = await readFile(setting.value, 'utf8');
    } catch (error) {
      throw new SettingError(
        `${setting.origin}: budgets: cannot read ${setting.value}: ${error instanceof Error ? error.message : error}`,
      );
    }
    return parseBudgetsYaml(text, basename(setting.value), []);
  }
  if (options.configFile) {
    try {
      const text = await readFile(options.configFile, 'utf8');
      return parseBudgetsYaml(text, basename(options.configFile), ['budgets']);
    } catch (error) {
      if (error instanceof SettingError) throw error;
    }
  }
  return budgetsFrom(setting.value, () => setting.origin, 'budgets');
}

/** Parses a YAML document holding a budgets list at `at` (the root of a budgets file, or `budgets:`). */
export function parseBudgetsYaml(text: string, name: string, at: readonly string[]): Budget[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError)
    throw new SettingError(
      `${name}:${lineCounter.linePos(firstError.pos[0]).line}: not valid YAML: ${firstError.message.split('\n')[0]}`,
    );
  const lineOf = (node: unknown): number => {
    const range = (node as Node | undefined)?.range;
    return range ? lineCounter.linePos(range[0] ?? 0).line : 1;
  };
  const listNode = at.length === 0 ? doc.contents : doc.getIn(at, true);
  if (listNode === null || listNode === undefined) return [];
  if (!isSeq(listNode))
    throw new SettingError(`${name}:${lineOf(listNode)}: ${[...at, ''].join('')}expected a list of budgets`);
  const value = (listNode as { toJSON(): unknown }).toJSON();
  const prefix = at.length === 0 ? '' : at.join('.');
  return budgetsFrom(
    Array.isArray(value) ? value : [],
    (index, path) => {
      const item = listNode.items[index];
      const node =
        path.length > 0 && item && typeof item === 'object' ? doc.getIn([...at, index, ...path], true) : item;
      return `${name}:${lineOf(node ?? item)}`;
    },
    prefix,
  );
}

function budgetsFrom(
  items: readonly unknown[],
  where: (index: number, path: readonly string[]) => string,
  prefix: string,
): Budget[] {
  const budgets: Budget[] = [];
  const messages: string[] = [];
  const seen = new Map<string, string>();
  items.forEach((item, index) => {
    const parsed = parseOne(item, 'file', where(index, []));
    if (!parsed.ok) {
      for (const e of parsed.errors) {
        const path = e.path.startsWith('(') ? [] : e.path.split('.').slice(0, 1);
        messages.push(`${where(index, path)}: ${prefix}[${index}].${e.path}: ${e.message}`);
      }
      return;
    }
    const first = seen.get(parsed.budget.id);
    if (first) {
      messages.push(
        `${parsed.budget.declaredAt}: ${prefix}[${index}].id: "${parsed.budget.id}" is already declared at ${first}`,
      );
      return;
    }
    seen.set(parsed.budget.id, parsed.budget.declaredAt);
    budgets.push(parsed.budget);
  });
  if (messages.length > 0) throw new SettingError(messages.join('\n'));
  return budgets;
}

/** File budgets as a run records them: resolved (a path means nothing on a worker), with their origin. */
export function recordedBudgets(budgets: readonly Budget[]): Record<string, unknown>[] {
  return budgets.map((b) => ({ ...budgetBody(b), declared_at: b.declaredAt }));
}

/** The file budgets a run recorded (scale-out workers build the run's graph from them). */
export function budgetsFromRecorded(value: unknown): Budget[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (!item || typeof item !== 'object') return [];
    const { declared_at, ...body } = item as Record<string, unknown>;
    const parsed = parseOne(
      body,
      'file',
      typeof declared_at === 'string' ? declared_at : 'billing-pipeline.yaml',
    );
    if (!parsed.ok)
      throw new SettingError(
        `the budgets recorded with the run are invalid: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      );
    return [parsed.budget];
  });
}
