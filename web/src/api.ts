/** The one way the UI talks to the server: JSON in and out, errors as `ApiError`, bearer token if set. */

const TOKEN_KEY = 'billing-api-token';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A `?token=` in the address (as `billing-pipeline dev` prints it) is remembered, then dropped from the bar. */
function captureToken(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url);
}
captureToken();

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const token = localStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      signal: init.signal,
      headers: {
        ...authHeaders(),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'offline', 'the server is not reachable; is `billing-pipeline dev` running?');
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(
      res.status,
      'bad_response',
      `the server answered ${res.status} with something that is not JSON`,
    );
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    throw new ApiError(
      res.status,
      error?.code ?? 'http_error',
      error?.message ?? `HTTP ${res.status}`,
      error?.details,
    );
  }
  return body as T;
}

/** Builds `path?a=1&b=2`, leaving out empty values. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** What POST /api/sql/csv answered: the whole result as CSV, and whether its caps cut it. */
export interface CsvDownload {
  csv: Blob;
  rows: number;
  truncated: boolean;
}

/**
 * POSTs a query to /api/sql/csv and returns the CSV it streams back (the whole result up to the
 * route's caps, not the rows on screen). Errors arrive as JSON, like every other route's.
 */
export async function postCsv(path: string, body: unknown): Promise<CsvDownload> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'offline', 'the server is not reachable; is `billing-pipeline dev` running?');
  }
  if (!res.ok) {
    const text = await res.text();
    let error: { code?: string; message?: string; details?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${res.status}`);
  }
  return {
    csv: await res.blob(),
    rows: Number(res.headers.get('x-result-rows') ?? 0),
    truncated: res.headers.get('x-result-truncated') === 'true',
  };
}
