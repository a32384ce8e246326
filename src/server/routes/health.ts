import { createRoute, z } from '@hono/zod-openapi';
import { ErrorSchema } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { HttpError } from '../http-error.js';

/** Load balancers give up after a few seconds; a stuck warehouse must answer "not ready", not hang. */
const WAREHOUSE_PROBE_MS = 3000;

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
const ReadySchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    reason: z.string().optional().openapi({ example: 'the run queue is stopping (shutdown)' }),
  })
  .openapi('Readiness');

async function warehouseProblem(deps: AppDeps): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`the warehouse did not answer within ${WAREHOUSE_PROBE_MS} ms`),
      WAREHOUSE_PROBE_MS,
    );
  });
  const probe = deps.runtime.warehouse.all('SELECT 1 AS ok').then(
    () => null,
    (error: unknown) =>
      `the warehouse failed a trivial query: ${error instanceof Error ? error.message : error}`,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes and metrics at the root, not under /api: that is where load balancers and Prometheus
 * look. The probes stay open without the API token (they reveal nothing); /metrics does not.
 */
export function registerHealthRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['health'],
      summary: 'Liveness: 200 while the process serves requests (no token needed)',
      responses: { 200: { content: { 'application/json': { schema: HealthSchema } }, description: 'Alive' } },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['health'],
      summary:
        'Readiness: 200 when the warehouse answers a trivial query and the run queue is running; 503 with the reason otherwise (no token needed)',
      responses: {
        200: { content: { 'application/json': { schema: ReadySchema } }, description: 'Ready' },
        503: { content: { 'application/json': { schema: ReadySchema } }, description: 'Not ready' },
      },
    }),
    async (c) => {
      // The daemon's own state first: during shutdown the warehouse may already be closing.
      const reason = deps.observability?.notReady() ?? (await warehouseProblem(deps));
      if (reason) return c.json({ status: 'not_ready' as const, reason }, 503);
      return c.json({ status: 'ready' as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['health'],
      summary: 'Prometheus metrics in the text exposition format (needs the API token when one is set)',
      responses: {
        200: {
          content: { 'text/plain': { schema: z.string() } },
          description: 'Metrics, see docs/observability.md',
        },
        404: { content: { 'application/json': { schema: ErrorSchema } }, description: 'Not a daemon' },
      },
    }),
    async (c) => {
      const metrics = deps.observability?.metrics;
      if (!metrics) throw new HttpError(404, 'not_found', 'metrics are served by the daemon (dev|serve)');
      // Prometheus reads the exposition format version from the content type.
      return c.text(await metrics.render(), 200, { 'content-type': metrics.contentType });
    },
  );
}
