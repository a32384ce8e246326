import { z } from '@hono/zod-openapi';

/**
 * The invoice preview's response (GET /api/invoice-preview). Imports nothing but zod, like the
 * other schema modules, so the UI may read its types. Money is an exact decimal string in the
 * reporting currency (`currency`); null = unknown (an event lacks an FX rate), never 0.
 */

const Amount = z.string().nullable().openapi({ example: '1234.500000' });

export const InvoiceLineSchema = z
  .object({
    serviceTier: z.string().nullable(),
    resourceType: z.string().nullable(),
    operationType: z.string().nullable(),
    events: z.number(),
    amount: Amount.openapi({ description: 'in the reporting currency; null when any event lacks a rate' }),
    unnormalizedEvents: z.number(),
    original: z.array(z.object({ currency: z.string(), amount: z.string() })),
  })
  .openapi('InvoiceLine');

export const InvoicePreviewSchema = z
  .object({
    user: z.string(),
    month: z.string().openapi({ example: '2026-11' }),
    currency: z.string().openapi({ description: 'the reporting currency of every amount', example: 'USD' }),
    asOf: z.string().nullable().openapi({ description: 'the last day counted' }),
    lines: z.array(InvoiceLineSchema),
    total: z.object({ amount: Amount, unknownEvents: z.number(), complete: z.boolean() }),
    forecast: z
      .object({ total: z.string(), low: z.string(), high: z.string() })
      .nullable()
      .openapi({ description: 'whole-month estimate with an 80 % band; null for a closed month' }),
    rates: z.array(z.object({ currency: z.string(), rateDate: z.string(), rate: z.string() })),
    warnings: z.array(z.string()),
  })
  .openapi('InvoicePreview');

export const InvoicePreviewQuery = z.object({
  // Validated by parseInvoiceRequest, so a bad value gets a message naming what is expected.
  user: z.string().optional().openapi({ example: '1042' }),
  month: z.string().optional().openapi({ example: '2026-11' }),
  format: z.enum(['json', 'csv']).default('json'),
});
