import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpError } from './http-error.js';

/**
 * Request-level guards every route shares: body size, cross-site requests and the bearer token.
 * See docs/security.md for the model they implement.
 */

/** 413 for a body above `maxBytes`: by Content-Length up front, or while a chunked body streams in. */
export function limitBodies(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(
        413,
        'body_too_large',
        `request bodies are limited to ${maxBytes} bytes (BILLING_API_BODY_LIMIT)`,
      );
    },
  });
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Whether a request may change something. Browsers label every request with Sec-Fetch-Site, which
 * a page cannot forge: only `same-origin` (the UI itself) and `none` (typed into the address bar)
 * pass. `same-site` is refused too: another port on 127.0.0.1 is the same site. Older browsers
 * send only Origin, which must then name this server's own host. A request with neither comes
 * from a program (the CLI, curl), which a web page cannot make the browser send.
 */
export function crossSiteRefusal(request: Request): string | null {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) {
    return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site: ${site}`;
  }
  const origin = request.headers.get('origin');
  if (origin === null) return null;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    host = null;
  }
  return host !== null && host === request.headers.get('host') ? null : `Origin: ${origin}`;
}

/** Refuses cross-site POST/PUT/PATCH/DELETE on every route (CSRF), before anything runs. */
export const refuseCrossSite: MiddlewareHandler = async (c, next) => {
  if (MUTATING.has(c.req.method)) {
    const why = crossSiteRefusal(c.req.raw);
    if (why) {
      throw new HttpError(
        403,
        'cross_site',
        `cross-site requests may not change anything (${why}); use the web UI served by this server, or a client that is not a browser`,
      );
    }
  }
  await next();
};

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Requires `Authorization: Bearer <token>`. Both sides are hashed first so they have equal length,
 * and compared with timingSafeEqual: how long a wrong guess takes says nothing about the token.
 */
export function requireToken(token: string): MiddlewareHandler {
  const expected = digest(`Bearer ${token}`);
  return async (c, next) => {
    if (!timingSafeEqual(digest(c.req.header('authorization') ?? ''), expected)) {
      throw new HttpError(
        401,
        'unauthorized',
        'this server requires Authorization: Bearer <BILLING_API_TOKEN>',
      );
    }
    await next();
  };
}
