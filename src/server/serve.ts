import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface Listening {
  /** The real port (differs from the requested one for port 0). */
  port: number;
  close(): Promise<void>;
}

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * Host names a loopback-bound server answers to. A browser page on another site can resolve its
 * own name to 127.0.0.1 (DNS rebinding); checking the Host header keeps it out.
 */
function allowedHost(header: string | null): boolean {
  if (!header) return false;
  const name = header.startsWith('[')
    ? header.slice(0, header.indexOf(']') + 1)
    : (header.split(':')[0] ?? '');
  return isLoopback(name);
}

/** Serves `fetch` over HTTP on host:port; resolves once listening, rejects with a clear message otherwise. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { host: string; port: number },
): Promise<Listening> {
  const guarded = isLoopback(options.host)
    ? (request: Request) =>
        allowedHost(request.headers.get('host'))
          ? fetch(request)
          : Response.json(
              { error: { code: 'forbidden_host', message: 'this server only answers to localhost names' } },
              { status: 403 },
            )
    : fetch;
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: guarded, hostname: options.host, port: options.port }) as Server;
    const onError = (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${options.port} on ${options.host} is already in use (pick another with --port)`
          : error.message;
      reject(new Error(`cannot listen on ${options.host}:${options.port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive connections (a polling CLI) would otherwise hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
