import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, withQuery } from './api.js';
import type { ApiGetRoutes } from './types.js';

export interface ApiState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/**
 * GETs `path` (null to wait). Polling (`pollMs`, only while the tab is visible) keeps the last
 * answer on screen while the next loads; a new path clears it, unless `keep` says the old answer
 * is still a fair picture (a chart under a changed filter) and a flash of skeleton would be worse.
 */
export function useApi<T>(
  path: string | null,
  options: { pollMs?: number | null; keep?: boolean } = {},
): ApiState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const lastPath = useRef<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload trigger; keep is read once per path
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    if (lastPath.current !== path) {
      setLoading(true);
      if (!options.keep) setData(null);
    }
    lastPath.current = path;
    api<T>(path, { signal: controller.signal })
      .then((body) => {
        setData(body);
        setError(null);
        setLoading(false);
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
        setLoading(false);
      });
    return () => controller.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!options.pollMs || path === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, options.pollMs);
    return () => window.clearInterval(timer);
  }, [options.pollMs, path]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/**
 * `useApi` for a path the server's types know: the answer's type comes from the path
 * (ApiGetRoutes), so a page cannot read one endpoint's response as another's. `query` as
 * `withQuery`; null waits.
 */
export function useGet<P extends keyof ApiGetRoutes>(
  path: P,
  query: Record<string, string | number | undefined | null> | null = {},
  options: { pollMs?: number | null; keep?: boolean } = {},
): ApiState<ApiGetRoutes[P]> {
  return useApi<ApiGetRoutes[P]>(query === null ? null : withQuery(path, query), options);
}

export interface Action {
  pending: boolean;
  error: ApiError | null;
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
  clear(): void;
}

/** A button's request: pending while it runs, its error kept for display. */
export function useAction(): Action {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T>(fn: () => Promise<T>) => {
    setPending(true);
    setError(null);
    try {
      return await fn();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);
  return { pending, error, run, clear: useCallback(() => setError(null), []) };
}
