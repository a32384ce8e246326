/** The invoice preview route as the UI reads it (issue 14 contract). */

import type { z } from '@hono/zod-openapi';
import type { InvoiceLineSchema, InvoicePreviewSchema } from '../../src/server/invoice-schemas.js';
import { authHeaders, withQuery } from './api.js';

// The server's own shapes (type-only), so a renamed field fails the UI's type check.
export type InvoiceLine = z.infer<typeof InvoiceLineSchema>;
export type InvoicePreview = z.infer<typeof InvoicePreviewSchema>;

export type InvoiceFormat = 'json' | 'csv';

export function invoicePath(user: string, month: string, format?: InvoiceFormat): string {
  return withQuery('/api/invoice-preview', { user, month, format });
}

/**
 * Fetches the export with the bearer token (a plain link would not carry it) and saves it under
 * a name that says whose month it is.
 */
export async function downloadInvoice(user: string, month: string, format: InvoiceFormat): Promise<void> {
  const res = await fetch(invoicePath(user, month, format), { headers: authHeaders() });
  if (!res.ok) throw new Error(`the export answered HTTP ${res.status}`);
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = `invoice-preview-${user}-${month}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(href);
}
