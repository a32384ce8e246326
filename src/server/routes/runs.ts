import { createRoute, z } from '@hono/zod-openapi';
import { AssetGraphError } from '../../orchestrator/asset-graph.js';
import { BackfillError } from '../../orchestrator/backfill.js';
import { type DayRange, parseDayRange } from '../../orchestrator/days.js';
import type { RunRequest } from '../../orchestrator/run-executor.js';
import { QueueClosedError, requestFromStored } from '../../orchestrator/run-queue.js';
import { isTerminal } from '../../orchestrator/run-status.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { servicesOf } from '../daemon-services.js';
import { HttpError } from '../http-error.js';
import {
  accepted,
  BackfillDetailSchema,
  BackfillSchema,
  BackfillSubmissionSchema,
  ok,
  RunDetailSchema,
  RunSchema,
  RunStatusSchema,
  RunSubmissionSchema,
  toApiAssetRun,
  toApiEvent,
  toApiRun,
  toApiRunConfig,
} from '../run-schemas.js';

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

/** Known failures of a submission become 4xx/503 answers instead of 500s. */
export function asHttpError(error: unknown): never {
  if (error instanceof AssetGraphError) throw new HttpError(422, 'unknown_asset', error.message);
  if (error instanceof RangeError || error instanceof BackfillError)
    throw new HttpError(422, 'invalid_range', error.message);
  if (error instanceof QueueClosedError) throw new HttpError(503, 'shutting_down', error.message);
  throw error;
}

export function rangeOf(from: string | undefined, to: string | undefined): DayRange | null {
  if (from === undefined && to === undefined) return null;
  if (from === undefined || to === undefined)
    throw new HttpError(400, 'invalid_request', '"from" and "to" go together');
  try {
    return parseDayRange(from, to);
  } catch (error) {
    return asHttpError(error);
  }
}

export function registerRunRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs',
      tags: ['runs'],
      summary: 'Runs, newest first, keyset-paged (pass `next` as `before`)',
      request: {
        query: z.object({
          status: RunStatusSchema.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          before: z.string().min(1).max(200).optional(),
        }),
      },
      responses: ok(z.object({ runs: z.array(RunSchema), next: z.string().nullable() }), 'A page of runs'),
    }),
    async (c) => {
      const { status, limit, before } = c.req.valid('query');
      const rows = await deps.runtime.ledger.listRunsPage({ status, limit: limit + 1, before });
      const runs = rows.slice(0, limit).map(toApiRun);
      return c.json({ runs, next: rows.length > limit ? (runs.at(-1)?.run_id ?? null) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}',
      tags: ['runs'],
      summary: 'One run with its assets and structured event log',
      request: { params: IdParam },
      responses: ok(RunDetailSchema, 'The run'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const detail = await deps.runtime.ledger.getRun(id);
      if (!detail) throw new HttpError(404, 'not_found', `no run "${id}"`);
      return c.json(
        {
          run: toApiRun(detail.run),
          assets: detail.assets.map(toApiAssetRun),
          events: detail.events.map(toApiEvent),
          config: toApiRunConfig(detail.run),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs',
      tags: ['runs'],
      summary: 'Queue a run; a runKey used before makes it a no-op (deduplicated)',
      request: jsonBody(RunSubmissionSchema),
      responses: accepted(z.object({ runId: z.string(), deduplicated: z.boolean() }), 'Queued'),
    }),
    async (c) => {
      const body = c.req.valid('json');
      const request: RunRequest = {
        selection: body.selection,
        withUpstream: body.withUpstream,
        range: rangeOf(body.from, body.to),
        fullRefresh: body.fullRefresh,
        runKey: body.runKey,
        trigger: body.trigger ?? 'api',
      };
      const result = await deps.launcher.submit(request).catch(asHttpError);
      return c.json(result, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/cancel',
      tags: ['runs'],
      summary: 'Stop a queued run, or a running one at its next safe point',
      request: { params: IdParam },
      responses: ok(z.object({ canceled: z.boolean() }), 'Whether the run was active'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const canceled = await deps.launcher.cancel(id);
      if (!canceled && !(await deps.runtime.ledger.runRequest(id)))
        throw new HttpError(404, 'not_found', `no run "${id}"`);
      return c.json({ canceled }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/reexecute',
      tags: ['runs'],
      summary: 'Queue a new run with the same selection and range as a finished one',
      request: { params: IdParam },
      responses: accepted(z.object({ runId: z.string() }), 'Queued'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const stored = await deps.runtime.ledger.runRequest(id);
      if (!stored) throw new HttpError(404, 'not_found', `no run "${id}"`);
      if (!isTerminal(stored.status))
        throw new HttpError(
          409,
          'run_active',
          `run ${id} is ${stored.status}; re-execute it once it has finished`,
        );
      const { backfill_id: _b, partition: _p, ...tags } = requestFromStored(stored).tags ?? {};
      const request: RunRequest = {
        ...requestFromStored(stored),
        runKey: null,
        trigger: 'reexecute',
        tags: { ...tags, reexecute_of: id },
      };
      const { runId } = await deps.launcher.submit(request).catch(asHttpError);
      return c.json({ runId }, 202);
    },
  );

  registerBackfillRoutes(app, deps);
}

function registerBackfillRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/backfills',
      tags: ['backfills'],
      summary: 'Queue one run per day over a range, tracked as one backfill',
      request: jsonBody(BackfillSubmissionSchema),
      responses: accepted(z.object({ backfillId: z.string() }), 'Queued'),
    }),
    async (c) => {
      const body = c.req.valid('json');
      const range = rangeOf(body.from, body.to) as DayRange;
      const backfillId = await servicesOf(deps)
        .backfills.create({ range, selection: body.selection })
        .catch(asHttpError);
      return c.json({ backfillId }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/backfills',
      tags: ['backfills'],
      summary: 'Backfills, newest first, with per-status partition counts',
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) },
      responses: ok(z.object({ backfills: z.array(BackfillSchema) }), 'Backfills'),
    }),
    async (c) => {
      const { limit } = c.req.valid('query');
      return c.json({ backfills: await servicesOf(deps).backfills.list(limit) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/backfills/{id}',
      tags: ['backfills'],
      summary: 'One backfill with the status and run of each partition',
      request: { params: IdParam },
      responses: ok(BackfillDetailSchema, 'The backfill'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const found = await servicesOf(deps).backfills.get(id);
      if (!found) throw new HttpError(404, 'not_found', `no backfill "${id}"`);
      return c.json(found, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/backfills/{id}/cancel',
      tags: ['backfills'],
      summary: 'Cancel every queued or running partition of a backfill',
      request: { params: IdParam },
      responses: ok(z.object({ canceled: z.boolean(), runs_canceled: z.number() }), 'Canceled'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const count = await servicesOf(deps).backfills.cancel(id);
      if (count === null) throw new HttpError(404, 'not_found', `no backfill "${id}"`);
      return c.json({ canceled: count > 0, runs_canceled: count }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/backfills/{id}/reexecute-failed',
      tags: ['backfills'],
      summary: 'Queue a new attempt for each failed or canceled partition',
      request: { params: IdParam },
      responses: accepted(z.object({ backfillId: z.string(), runIds: z.array(z.string()) }), 'Queued'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const runIds = await servicesOf(deps).backfills.reexecuteFailed(id).catch(asHttpError);
      if (runIds === null) throw new HttpError(404, 'not_found', `no backfill "${id}"`);
      return c.json({ backfillId: id, runIds }, 202);
    },
  );
}
