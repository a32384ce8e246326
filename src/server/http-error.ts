/** The one HTTP error type: routes throw it, the central handler turns it into a JSON body. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After with a 429. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
