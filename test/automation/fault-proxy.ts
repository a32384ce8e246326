import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. `/bucket/year=2025/...csv` or `/bucket?list-type=2`. */
  path: string;
  /** 1-based count of requests seen so far, this one included. */
  n: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Every request with the status the client got (injected or from the server behind). */
  log: (ProxiedRequest & { status: number; injected: boolean })[];
  close(): Promise<void>;
}

/** `null` forwards the request; a status answers it here with an S3-style error instead. */
export type FaultPlan = (request: ProxiedRequest) => number | null;

const CODES: Record<number, string> = { 500: 'InternalError', 503: 'SlowDown' };

/**
 * An HTTP proxy on 127.0.0.1 in front of an S3 server that fails the requests `plan` picks. The
 * Host header is passed through untouched, so SigV4 signatures made for the proxy's address still
 * verify behind it.
 */
export async function faultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const upstream = new URL(target);
  const log: FaultProxy['log'] = [];
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', n: ++n };
    const status = plan(seen);
    if (status !== null) {
      log.push({ ...seen, status, injected: true });
      req.resume();
      const code = CODES[status] ?? 'ServiceUnavailable';
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`,
      );
      return;
    }
    const out = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        log.push({ ...seen, status: answer.statusCode ?? 0, injected: false });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fails the first `count` requests with `status`. */
export const failFirst =
  (count: number, status = 503): FaultPlan =>
  ({ n }) =>
    n <= count ? status : null;

/** Fails the first request of every distinct path (query included) that `match` accepts. */
export function failOncePerPath(match: (r: ProxiedRequest) => boolean, status = 503): FaultPlan {
  const failed = new Set<string>();
  return (request) => {
    if (!match(request) || failed.has(request.path)) return null;
    failed.add(request.path);
    return status;
  };
}
