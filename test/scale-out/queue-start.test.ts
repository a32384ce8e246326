import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/orchestrator/scale-out/job-queue.js';
import { createDatabase } from '../support/postgres.js';
import { postgresPerFile } from './support.js';

const pg = postgresPerFile();

describe.skipIf(!pg.available)('job queue start-up', () => {
  it('six processes opening the queue at once on a fresh database all start (no deadlock creating the queues)', async () => {
    // Without the queue setup lock a standalone loop of this (6 opens, 10 rounds) saw 22 "deadlock
    // detected" failures; under vitest the race shows up less often, so this is a guard, not a proof.
    for (let round = 0; round < 4; round++) {
      const db = await createDatabase(pg.server(), `queue_start_${round}`);
      const opened = await Promise.allSettled(
        Array.from({ length: 6 }, () => JobQueue.open({ url: db.url })),
      );
      const queues = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const names = (await queues[0]?.boss.getQueues())?.map((q) => q.name).sort();
      for (const q of queues) await q.close({ graceful: false, timeoutMs: 1000 });
      expect(opened.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
      expect(names).toEqual(['runs', 'runs-dead', 'tasks']);
      await db.drop();
    }
  });
});
