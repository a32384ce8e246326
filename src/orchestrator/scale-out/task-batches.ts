/**
 * Groups units of work (files) into queue tasks, in order: consecutive items share a task until it
 * holds `maxItems` or `maxBytes`; an item at or above `maxBytes` goes alone. One task per small file
 * made the queue's per-task cost (a fetch, a transaction, the coordinator noticing the end) the
 * whole cost of a daily increment; one task for everything would leave the other workers idle. A
 * task of several files is loaded the way the embedded mode loads them (parsing overlaps writing).
 */
export interface BatchLimits {
  maxItems: number;
  maxBytes: number;
}

/**
 * 32 MB (about 270k generated rows) per task: big enough that parsing overlaps the writes inside it,
 * small enough that a full load of a few hundred MB gives every worker of a small cluster a share.
 */
export const FILE_TASK_LIMITS: BatchLimits = { maxItems: 64, maxBytes: 32 * 2 ** 20 };

/**
 * FILE_TASK_LIMITS, or at most BILLING_TEST_TASK_BATCH_FILES files per task (1: a task per file, as
 * before batching; the tests of per-file task races use it).
 */
export function fileTaskLimits(env: NodeJS.ProcessEnv = process.env): BatchLimits {
  const files = Number(env.BILLING_TEST_TASK_BATCH_FILES);
  if (!Number.isInteger(files) || files < 1) return FILE_TASK_LIMITS;
  return { ...FILE_TASK_LIMITS, maxItems: files };
}

export function batchBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: BatchLimits = fileTaskLimits(),
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Math.max(0, sizeOf(item));
    if (current.length > 0 && (current.length >= limits.maxItems || bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
