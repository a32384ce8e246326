import type { CheckSeverity } from '../../src/orchestrator/asset-check.js';
import type { CheckRow } from '../../src/orchestrator/check-runner.js';

/** A small key space, so random check results hit the same (asset, partition, check) often. */
export const ASSETS = ['billing_files', 'billing_events'];
export const CHECKS = ['fresh', 'no_gaps', 'sums'];
export const PARTITIONS = [null, '2025-04-01', '2025-04-02', '2025-04-03'];
export const PAIRS = ASSETS.flatMap((asset) => CHECKS.map((check) => ({ asset, check })));

export type CheckKey = { asset: string; partition: string | null; check_name: string };

/** Keys in a stable order, other columns dropped, for comparing two reads. */
export const sortedKeys = (keys: readonly CheckKey[]) =>
  keys
    .map((k) => ({ asset: k.asset, partition: k.partition, check_name: k.check_name }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** 1–12 random results over the key space; one key can appear twice (the later row is its latest). */
export function randomCheckRows(next: () => number): CheckRow[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: 1 + Math.floor(next() * 12) }, () => ({
    asset: pick(ASSETS),
    check: pick(CHECKS),
    severity: pick<CheckSeverity>(['error', 'warn']),
    partition: pick(PARTITIONS),
    passed: next() < 0.6,
  }));
}
