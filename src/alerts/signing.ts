import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: HMAC-SHA256 over the exact body bytes, sent as
 * `X-Billing-Signature: sha256=<hex>`. Receivers recompute it over the raw body they read, before
 * parsing, so any re-serialization on either side would break it; the body is signed as sent.
 * The key comes from the channel's `secret_env`, read by loadAlertsConfig at start: a missing
 * variable is a setting error there, never a silent unsigned send.
 */

export const SIGNATURE_HEADER = 'X-Billing-Signature';
export const EVENT_HEADER = 'X-Billing-Alert-Event';

export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a received header against the body (what a receiver does). */
export function verifySignature(
  body: string | Uint8Array,
  secret: string,
  header: string | null | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const received = Buffer.from(header);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
