import { createRoute } from '@hono/zod-openapi';
import { json } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { planMaterialization } from '../asset-plan.js';
import { MaterializeRequestSchema, MaterializeResultSchema } from '../asset-schemas.js';
import { servicesOf } from '../daemon-services.js';
import { HttpError } from '../http-error.js';
import { asHttpError, rangeOf } from './runs.js';

/**
 * "Materialize stale", "with downstream", "with upstream" and "all assets": the server picks the
 * selection, so the confirmation (a `dryRun`) and the launched run cover the same assets.
 */
export function registerMaterializeRoute(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/assets/materialize',
      tags: ['assets'],
      summary:
        'Plan (dryRun) or launch a run over a computed asset selection: stale, downstream, upstream or all',
      request: {
        body: { content: { 'application/json': { schema: MaterializeRequestSchema } }, required: true },
      },
      responses: json(MaterializeResultSchema, 'The plan, and the run or backfill it launched'),
    }),
    async (c) => {
      const body = c.req.valid('json');
      const range = rangeOf(body.from, body.to);
      const { plan, request } = await planMaterialization(deps.runtime, {
        scope: body.scope,
        asset: body.asset,
        range,
      });
      if (body.dryRun || plan.assets.length === 0)
        return c.json({ plan, runId: null, backfillId: null }, 200);
      if (body.backfill) {
        if (!range) throw new HttpError(400, 'invalid_request', 'a backfill needs "from" and "to"');
        const backfillId = await servicesOf(deps)
          .backfills.create({ range, selection: request.selection })
          .catch(asHttpError);
        return c.json({ plan, runId: null, backfillId }, 200);
      }
      const { runId } = await deps.launcher
        .submit({ ...request, trigger: 'ui', tags: { scope: body.scope } })
        .catch(asHttpError);
      return c.json({ plan, runId, backfillId: null }, 200);
    },
  );
}
