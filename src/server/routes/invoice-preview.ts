import { createRoute, z } from '@hono/zod-openapi';
import { invoiceCsv } from '../../billing/invoice/invoice-format.js';
import { invoicePreview, parseInvoiceRequest } from '../../billing/invoice/invoice-preview.js';
import { errorResponses } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { HttpError } from '../http-error.js';
import { InvoicePreviewQuery, InvoicePreviewSchema } from '../invoice-schemas.js';

export function registerInvoicePreviewRoutes(app: App, deps: AppDeps): void {
  const { warehouse, config } = deps.runtime;
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/invoice-preview',
      tags: ['invoices'],
      summary:
        "A user's month to date by service tier, resource type and operation: exact amounts, events, forecast and FX rates used (format=csv for the export)",
      request: { query: InvoicePreviewQuery },
      responses: {
        200: {
          content: {
            'application/json': { schema: InvoicePreviewSchema },
            'text/csv': { schema: z.string() },
          },
          description: 'The preview (an unknown user or month: no lines and a warning)',
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const parsed = parseInvoiceRequest(query);
      if (!parsed.ok) {
        throw new HttpError(
          400,
          'invalid_request',
          parsed.errors.map((e) => e.message).join('; '),
          parsed.errors.map((e) => ({ path: e.field, message: e.message })),
        );
      }
      const preview = await invoicePreview(warehouse, parsed.request, {
        reportingCurrency: config.reportingCurrency,
      });
      if (query.format === 'csv') {
        const name = `invoice-preview-${preview.user}-${preview.month}.csv`;
        return c.body(invoiceCsv(preview), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${name}"`,
        });
      }
      return c.json(preview, 200);
    },
  );
}
