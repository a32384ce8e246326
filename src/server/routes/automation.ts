import { createRoute, z } from '@hono/zod-openapi';
import type { InstigatorKind } from '../../orchestrator/automation-store.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { UnknownInstigatorError } from '../automation-service.js';
import { servicesOf } from '../daemon-services.js';
import { HttpError } from '../http-error.js';
import { ok, ScheduleSchema, SensorSchema, TickSchema } from '../run-schemas.js';

const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'daily_billing' }),
});
const TickQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) });

/** The instigator must exist and be of the kind the URL says. */
function checkKind(deps: AppDeps, name: string, kind: InstigatorKind): void {
  const actual = servicesOf(deps).automation.kindOf(name);
  if (actual !== kind) throw new HttpError(404, 'not_found', `no ${kind} named "${name}"`);
}

function register(app: App, deps: AppDeps, kind: InstigatorKind): void {
  const plural = kind === 'sensor' ? 'sensors' : 'schedules';

  app.openapi(
    createRoute({
      method: 'get',
      path: `/api/${plural}/{name}/ticks`,
      tags: ['automation'],
      summary: `Recent ticks of a ${kind}, newest first: outcome, cursor before and after, runs requested`,
      request: { params: NameParam, query: TickQuery },
      responses: ok(z.object({ ticks: z.array(TickSchema) }), 'Ticks'),
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      checkKind(deps, name, kind);
      return c.json({ ticks: await servicesOf(deps).automation.ticks(name, limit) }, 200);
    },
  );

  for (const action of ['start', 'stop'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/${plural}/{name}/${action}`,
        tags: ['automation'],
        summary: `${action === 'start' ? 'Switch on' : 'Switch off'} a ${kind} (saved: survives restarts)`,
        request: { params: NameParam },
        responses: ok(z.object({ name: z.string(), enabled: z.boolean() }), 'New state'),
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        checkKind(deps, name, kind);
        try {
          await servicesOf(deps).automation.setEnabled(name, action === 'start');
        } catch (error) {
          if (error instanceof UnknownInstigatorError) throw new HttpError(404, 'not_found', error.message);
          throw error;
        }
        return c.json({ name, enabled: action === 'start' }, 200);
      },
    );
  }
}

export function registerAutomationRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sensors',
      tags: ['automation'],
      summary: 'Sensors with on/off state, interval, cursor, last tick and next tick',
      responses: ok(z.object({ sensors: z.array(SensorSchema) }), 'Sensors'),
    }),
    async (c) => c.json({ sensors: await servicesOf(deps).automation.listSensors() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/schedules',
      tags: ['automation'],
      summary: 'Schedules with cron, time zone, on/off state, last tick and next tick',
      responses: ok(z.object({ schedules: z.array(ScheduleSchema) }), 'Schedules'),
    }),
    async (c) => c.json({ schedules: await servicesOf(deps).automation.listSchedules() }, 200),
  );

  register(app, deps, 'sensor');
  register(app, deps, 'schedule');
}
