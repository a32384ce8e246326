import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { HttpError } from '../http-error.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The built UI (web/dist): files as they are, and index.html for any other path so the client-side
 * router can take over (`/assets/daily_aggregates` is a page, not a file). Vite fingerprints
 * everything under /static/ (web/vite.config.ts), so those may be cached forever; index.html never is.
 */
export function registerWebRoutes(app: App, deps: AppDeps): void {
  const root = deps.webRoot ? resolve(deps.webRoot) : null;
  app.get('*', async (c) => {
    if (!root) {
      throw new HttpError(
        404,
        'no_web_ui',
        'this server was started without a web UI; the API is under /api',
      );
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      throw new HttpError(400, 'bad_path', 'the path is not valid percent-encoding');
    }
    const target = resolve(root, `.${pathname}`);
    const inside = target === root || target.startsWith(root + sep);
    if (inside && extname(target) !== '' && (await isFile(target))) {
      const immutable = pathname.startsWith('/static/');
      return c.body(await readFile(target), 200, {
        'content-type': CONTENT_TYPES[extname(target)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
    if (extname(pathname) !== '') throw new HttpError(404, 'not_found', `no such file: ${pathname}`);
    const index = resolve(root, 'index.html');
    if (!(await isFile(index))) {
      throw new HttpError(
        404,
        'no_web_ui',
        `the web UI is not built (${index} is missing); run \`npm run build:web\``,
      );
    }
    return c.html(await readFile(index, 'utf8'), 200, { 'cache-control': 'no-cache' });
  });
}
