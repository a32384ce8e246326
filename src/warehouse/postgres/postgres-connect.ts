import { ConfigError } from '../../config.js';

/** Where a database URL points, without its password: safe to print. */
export interface PgTarget {
  host: string;
  port: string;
  database: string;
  user: string;
  /** `postgres://user@host:port/database`, for messages and `Warehouse.location`. */
  display: string;
}

/** Checks the URL's shape before any connection attempt, so a typo is a config error, not a hang. */
export function parseDatabaseUrl(url: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'the database URL is not a URL: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(
      `the database URL must start with postgres:// or postgresql:// (got ${parsed.protocol}//…)`,
    );
  }
  // A Unix socket is given as ?host=/path; libpq's default port applies when none is given.
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = parsed.port || parsed.searchParams.get('port') || '5432';
  const database = decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username);
  const user = decodeURIComponent(parsed.username) || process.env.USER || 'postgres';
  const where = host.startsWith('/') ? `${host} (socket), port ${port}` : `${host}:${port}`;
  return { host, port, database, user, display: `postgres://${user}@${where}/${database}` };
}

interface PgLikeError {
  code?: string;
  message?: string;
}

/**
 * Turns a failed first connection into a ConfigError naming the server and what to check. The
 * driver's own messages ("connect ECONNREFUSED 127.0.0.1:5432", "password authentication failed")
 * say what happened but not which setting to fix.
 */
export function connectError(error: unknown, target: PgTarget, timeoutMs: number): ConfigError {
  const e = (error ?? {}) as PgLikeError;
  const where = target.host.startsWith('/')
    ? `the socket in ${target.host} (port ${target.port})`
    : `${target.host}:${target.port}`;
  const message = e.message ?? String(error);
  let text: string;
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      text = `nothing accepts PostgreSQL connections at ${where}: check that the server is running and the host and port in the database URL`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      text = `the PostgreSQL host "${target.host}" cannot be resolved: check the host in the database URL`;
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      text = `PostgreSQL at ${where} cannot be reached (${e.code}): check the host, the port and any firewall in between`;
      break;
    case '28P01':
    case '28000':
      text = `PostgreSQL at ${where} refused user "${target.user}" (${message}): check the user and password in the database URL and the server's pg_hba.conf`;
      break;
    case '3D000':
      text = `PostgreSQL at ${where} has no database "${target.database}": create it or fix the database name in the database URL`;
      break;
    case '57P03':
      text = `PostgreSQL at ${where} is starting up or shutting down: try again shortly`;
      break;
    default:
      text = /timeout/i.test(message)
        ? `PostgreSQL at ${where} did not answer within ${timeoutMs / 1000}s: check the host, the port and any firewall in between`
        : `cannot connect to PostgreSQL at ${where} as "${target.user}": ${message}`;
  }
  return new ConfigError(text, { cause: error });
}

// Sent as startup options, so every connection has them before its first statement. TimeZone makes
// TIMESTAMPTZ print in UTC and casts to it read naive text as UTC, as in DuckDB without ICU;
// DateStyle fixes the text the value converter parses, whatever the server's defaults.
const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,YMD';

/** The URL with our session options added to any it already carries (pg lets the URL's win). */
export function withSessionOptions(url: string): string {
  const parsed = new URL(url);
  const own = parsed.searchParams.get('options');
  parsed.searchParams.set('options', own ? `${own} ${SESSION_OPTIONS}` : SESSION_OPTIONS);
  return parsed.toString();
}

/** Every value comes back as PostgreSQL's text, so conversion can see the column's type modifier. */
export const rawText = (value: string): string => value;
