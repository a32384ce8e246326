import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { SettingError } from './errors.js';
import { nearest, parseSetting } from './setting-values.js';
import { SETTINGS, type SettingDef, type SettingValue } from './settings.js';

export const CONFIG_FILE_NAME = 'billing-pipeline.yaml';

/**
 * Which file holds the project configuration: `--config` / BILLING_CONFIG name one (it must
 * exist); otherwise `./billing-pipeline.yaml`, then `$BILLING_HOME/billing-pipeline.yaml`. The
 * working directory wins: it is the project, BILLING_HOME only its state.
 */
export function findConfigFile(options: {
  explicit: { value: string; origin: string } | null;
  cwd: string;
  home: string;
}): string | null {
  if (options.explicit) {
    const path = resolve(options.cwd, options.explicit.value);
    if (!existsSync(path))
      throw new SettingError(`${options.explicit.origin}: ${options.explicit.value} does not exist`);
    return path;
  }
  for (const dir of [options.cwd, options.home]) {
    const path = resolve(dir, CONFIG_FILE_NAME);
    if (existsSync(path)) return path;
  }
  return null;
}

export interface FileSetting {
  value: SettingValue;
  /** `billing-pipeline.yaml:7` */
  origin: string;
}

type Tree = { [key: string]: Tree | SettingDef };

/** The nested shape of the file, from the dotted keys. */
function settingTree(): Tree {
  const root: Tree = {};
  for (const def of SETTINGS) {
    const parts = def.key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Tree;
    }
    node[parts[parts.length - 1] ?? def.key] = def;
  }
  return root;
}

const isDef = (value: Tree | SettingDef): value is SettingDef =>
  typeof (value as SettingDef).env === 'string';

/** The zod schema of the file: strict objects (unknown keys are errors), every leaf checked by its kind. */
function schemaOf(tree: Tree): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(tree)) {
    if (isDef(value)) {
      const def = value;
      shape[key] = z
        .unknown()
        .transform((input, ctx) => {
          // `fx_source:` with nothing after it is YAML null: the setting is left unset.
          if (input === null || input === undefined) return undefined;
          const parsed = parseSetting(def, input);
          if (parsed.ok) return parsed.value;
          ctx.addIssue({ code: 'custom', message: parsed.message });
          return z.NEVER;
        })
        .optional();
    } else {
      // A section whose settings are all commented out (as `init` writes them) is YAML null.
      shape[key] = z.preprocess((v) => v ?? undefined, schemaOf(value).optional());
    }
  }
  return z.strictObject(shape, { error: () => 'expected a mapping of settings' });
}

const TREE = settingTree();
const FILE_SCHEMA = schemaOf(TREE);

function keysAt(path: readonly PropertyKey[]): string[] {
  let node: Tree | SettingDef = TREE;
  for (const part of path) {
    if (isDef(node)) return [];
    const next: Tree | SettingDef | undefined = node[String(part)];
    if (!next) return [];
    node = next;
  }
  return isDef(node) ? [] : Object.keys(node);
}

/** Reads, parses and validates the file; every problem is named by line and key. */
export function readConfigFile(path: string): Map<string, FileSetting> {
  const name = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettingError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (node: { range?: readonly number[] | null } | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0] ?? 0).line : 1;
  const firstError = doc.errors[0];
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new SettingError(`${name}:${line}: not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS() ?? {};
  const result = FILE_SCHEMA.safeParse(data);
  if (!result.success) {
    const messages = result.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => {
          const parent = issue.path.length === 0 ? doc.contents : doc.getIn(issue.path, true);
          const pair = isMap(parent)
            ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key)
            : undefined;
          const full = [...issue.path, key].join('.');
          const near = nearest(key, keysAt(issue.path));
          const hint = near ? `; did you mean ${[...issue.path, near].join('.')}?` : '';
          return {
            line: lineOf(pair?.key as Node | undefined),
            text: `${full}: not a known setting${hint}`,
          };
        });
      }
      const node = issue.path.length === 0 ? doc.contents : doc.getIn(issue.path, true);
      const key = issue.path.join('.') || '(top level)';
      return [{ line: lineOf(node as Node | undefined), text: `${key}: ${issue.message}` }];
    });
    messages.sort((a, b) => a.line - b.line);
    throw new SettingError(messages.map((m) => `${name}:${m.line}: ${m.text}`).join('\n'));
  }
  const out = new Map<string, FileSetting>();
  const base = dirname(path);
  for (const def of SETTINGS) {
    const parts = def.key.split('.');
    const node = doc.getIn(parts, true) as Node | undefined;
    let value = parts.reduce<unknown>(
      (obj, part) => (obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[part] : undefined),
      result.data,
    ) as SettingValue | undefined;
    if (value === undefined || value === null || value === '') continue;
    // Relative paths in the file are read from the file's folder, wherever the command runs.
    if (typeof value === 'string' && isLocalPath(def, value)) value = resolve(base, value);
    out.set(def.key, { value, origin: `${name}:${lineOf(node)}` });
  }
  return out;
}

function isLocalPath(def: SettingDef, value: string): boolean {
  if (def.kind === 'path' || def.kind === 'checks' || def.kind === 'budgets' || def.kind === 'alerts')
    return true;
  return def.kind === 'location' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}
