import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from './app-deps.js';
import { type ErrorBody, HttpError } from './http-error.js';
import { limitBodies, refuseCrossSite, requireToken } from './request-guards.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerAssetRoutes } from './routes/assets.js';
import { registerAutomationRoutes } from './routes/automation.js';
import { registerBudgetRoutes } from './routes/budgets.js';
import { registerDataRoutes } from './routes/data.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInsightRoutes } from './routes/insights.js';
import { registerInvoicePreviewRoutes } from './routes/invoice-preview.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerSqlRoutes } from './routes/sql.js';
import { registerWebRoutes } from './routes/web.js';

export type App = OpenAPIHono;

/**
 * The HTTP app: JSON API under /api (documented at /api/openapi.json), probes and metrics
 * (/healthz, /readyz, /metrics) and the web UI. Every error becomes a JSON body with a 4xx/5xx
 * status; stack traces never leave the process.
 */
export function createApp(deps: AppDeps): App {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        throw new HttpError(
          400,
          'invalid_request',
          'the request does not match the API schema',
          result.error.issues,
        );
      }
    },
  });

  app.use('*', limitBodies(deps.runtime.config.automation.apiBodyLimitBytes));
  app.use('*', refuseCrossSite);
  if (deps.token) {
    // Only the API and metrics: the UI's files hold no data, and a browser cannot send a bearer
    // header when it loads a page, so the UI must load to ask for the token (and then sends it
    // with every call). /healthz and /readyz stay open for load balancers; they reveal nothing.
    const tokenGuard = requireToken(deps.token);
    app.use('/api/*', tokenGuard);
    app.use('/metrics', tokenGuard);
  }

  registerAssetRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerAutomationRoutes(app, deps);
  registerBudgetRoutes(app, deps);
  registerInsightRoutes(app, deps);
  registerInvoicePreviewRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerDataRoutes(app, deps);
  registerSqlRoutes(app, deps);
  registerHealthRoutes(app, deps);

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'billing-pipeline API', version: '1' },
  });
  app.get('/api/health', (c) => c.json({ ok: true }));
  app.all('/api/*', () => {
    throw new HttpError(404, 'not_found', 'no such API route; see /api/openapi.json');
  });
  registerWebRoutes(app, deps);

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message, details: error.details } };
      return c.json(body, error.status as ContentfulStatusCode, error.headers);
    }
    // Hono's own validators throw these, e.g. for a body that is not JSON.
    if (error instanceof HTTPException && error.status < 500) {
      const body: ErrorBody = { error: { code: 'invalid_request', message: error.message } };
      return c.json(body, error.status as ContentfulStatusCode);
    }
    const body: ErrorBody = { error: { code: 'internal', message: error.message } };
    return c.json(body, 500);
  });
  return app;
}
