import { SETTINGS, type SettingDef } from './settings.js';

const scalar = (value: string | number): string =>
  typeof value === 'number' || /^[\w./:@-]+$/.test(value) ? String(value) : JSON.stringify(value);

function defaultText(def: SettingDef): string {
  if (def.fallbackText) return def.fallbackText;
  return def.fallback === null ? 'not set' : scalar(def.fallback);
}

function settingLines(def: SettingDef, indent: string): string[] {
  const name = def.key.split('.').pop() ?? def.key;
  const doc = def.doc.charAt(0).toUpperCase() + def.doc.slice(1);
  const via = [def.env, def.flag].filter(Boolean).join(', ');
  const value = def.example ?? def.fallback ?? '';
  return [
    `${indent}# ${doc}.`,
    `${indent}# (${via}; default: ${defaultText(def)})`,
    `${indent}# ${name}: ${scalar(value)}`,
  ];
}

/**
 * The commented billing-pipeline.yaml that `billing-pipeline init` writes: every setting, its
 * variable, its default, all commented out so that the defaults apply until one is set.
 */
export function configTemplate(): string {
  const lines = [
    '# billing-pipeline.yaml: the project configuration, written by `billing-pipeline init`.',
    '# Every process (CLI, daemon, workers) reads it from the working directory or $BILLING_HOME,',
    '# or from --config FILE / BILLING_CONFIG. Flags override BILLING_* variables, which override',
    '# this file, which overrides the defaults. Remove the "# " before a setting to set it.',
    '# Relative paths are read from the folder this file is in.',
  ];
  let section: string | null = null;
  for (const def of SETTINGS) {
    const parts = def.key.split('.');
    const group = parts.length > 1 ? (parts[0] ?? null) : null;
    if (group !== section && group !== null) lines.push('', `${group}:`);
    else lines.push('');
    section = group;
    lines.push(...settingLines(def, group ? '  ' : ''));
    if (def.key === 'checks')
      lines.push(
        '# Or inline, the same shape as the checks YAML of docs/quality.md:',
        '# checks:',
        '#   checks:',
        '#     rejected_row_rate: { max_rate: 0.01 }',
      );
    if (def.key === 'budgets')
      lines.push(
        '# Or inline (docs/budgets-alerts.md):',
        '# budgets:',
        '#   - id: monthly-total',
        '#     amount: 50000',
        '#     thresholds: [50, 80, 100]',
      );
    if (def.key === 'alerts')
      lines.push(
        '# Or inline (docs/budgets-alerts.md):',
        '# alerts:',
        '#   channels:',
        '#     - { name: ops, type: webhook, url: "https://example.com/hook", secret_env: BILLING_ALERT_SECRET }',
      );
  }
  return `${lines.join('\n')}\n`;
}
