import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe } from '../automation/daemon-support.js';
import { testPipeline } from '../support/pipeline.js';

const HEAVY = 'SELECT count(*) FROM range(1000000000000) a';

/**
 * `serve` in a child process under heavy SQL: the probes keep answering, and SIGTERM ends the
 * process although the queries would run for a minute (they are interrupted, not waited out).
 */
describe('the daemon under heavy SQL', () => {
  it('answers its probes while heavy queries run and stops on SIGTERM without waiting them out', async () => {
    const p = await testPipeline('daemon-limits');
    const env = {
      ...p.env,
      BILLING_SOURCE: p.source,
      BILLING_HOME: path.join(p.home, 'state'),
      BILLING_SQL_TIMEOUT_MS: '60000',
      BILLING_SQL_MAX_CONCURRENT: '2',
    };
    const daemon = await startServe(env);
    let heavyDone = false;
    const heavy = Promise.all(
      Array.from({ length: 4 }, () =>
        fetch(`${daemon.info.url}/api/sql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: HEAVY }),
        }).then(
          async (res) => ({ status: res.status, body: await res.text() }),
          (error: unknown) => ({ status: 0, body: String(error) }),
        ),
      ),
    ).finally(() => {
      heavyDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (const route of ['/healthz', '/readyz', '/api/health', '/']) {
      const res = await fetch(`${daemon.info.url}${route}`);
      expect(res.status, route).toBeLessThan(500);
      expect(heavyDone, `${route} answered only after the heavy queries ended`).toBe(false);
    }

    // Bounded: the queries alone would take 60 s; the test's own timeout is the bound.
    const stopped = await daemon.stop('SIGTERM');
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(daemon.output()).toContain('stopped; the warehouse is closed');
    const answers = await heavy;
    for (const answer of answers) expect(answer.status, answer.body).not.toBe(200);
  }, 40_000);
});
