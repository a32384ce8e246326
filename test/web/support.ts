import path from 'node:path';
import { generate } from '../../src/billing/generate/generator.js';
import { describeRun, executeRun, type RunRequest } from '../../src/orchestrator/run-executor.js';
import type { Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import type { RunLauncher } from '../../src/server/app-deps.js';
import { createSource } from '../../src/sources/create-source.js';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

export interface InProcessLauncher extends RunLauncher {
  /** Resolves when every submitted run has finished. */
  idle(): Promise<void>;
}

/**
 * A launcher without the daemon: records the run as queued, then executes runs one after another
 * in this process. Enough for API tests of the read routes; the daemon's queue is tested by its owner.
 */
export function inProcessLauncher(runtime: Runtime): InProcessLauncher {
  let chain: Promise<unknown> = Promise.resolve();
  const controllers = new Map<string, AbortController>();
  return {
    async submit(request: RunRequest) {
      const runId = await runtime.ledger.createRun(describeRun(runtime.graph, request), 'queued');
      const controller = new AbortController();
      controllers.set(runId, controller);
      chain = chain.then(() =>
        executeRun({ ...runtime, request, runId, signal: controller.signal }).finally(() =>
          controllers.delete(runId),
        ),
      );
      return { runId, deduplicated: false };
    },
    async cancel(runId: string) {
      const controller = controllers.get(runId);
      controller?.abort();
      return controller !== undefined;
    },
    idle: async () => {
      await chain;
    },
  };
}

/** Writes generated billing files (the `generate` command's generator) into the pipeline's source. */
export async function seed(
  pipeline: TestPipeline,
  options: {
    from: string;
    to: string;
    rowsPerDay: number;
    seed?: number;
    dirtyRate?: number;
    filesPerDay?: number;
  },
): Promise<void> {
  const sink = createSource(pipeline.source, pipeline.env);
  try {
    await generate(
      {
        from: options.from,
        to: options.to,
        rowsPerDay: options.rowsPerDay,
        seed: options.seed ?? 7,
        dirtyRate: options.dirtyRate ?? 0.01,
        filesPerDay: options.filesPerDay ?? 2,
        tmpDir: await tmpDir('web-seed'),
      },
      (key, file) => sink.putFile(key, file),
    );
  } finally {
    await sink.close();
  }
}

export interface ApiHarness {
  pipeline: TestPipeline;
  runtime: Runtime;
  launcher: InProcessLauncher;
  app: App;
  get<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * A seeded, materialized warehouse behind an in-process app. `fx` as for `testPipeline` (default:
 * rates for every generated currency; `null`: no FX source, a run that may fail its checks, which
 * `allowFailedRun` accepts).
 */
export async function apiHarness(
  name: string,
  options: {
    from: string;
    to: string;
    rowsPerDay: number;
    webRoot?: string;
    fx?: string | null;
    allowFailedRun?: boolean;
  },
): Promise<ApiHarness> {
  const pipeline = await testPipeline(name, { fx: options.fx });
  await seed(pipeline, options);
  const runtime = await pipeline.open();
  const launcher = inProcessLauncher(runtime);
  const summary = await runtime.materialize({ trigger: 'test' });
  if (summary.status !== 'success' && !options.allowFailedRun) {
    throw new Error(`seed run failed: ${summary.error}`);
  }
  const app = createApp({ runtime, launcher, webRoot: options.webRoot });
  return {
    pipeline,
    runtime,
    launcher,
    app,
    async get<T>(url: string) {
      const res = await app.request(url);
      return { status: res.status, body: (await res.json()) as T };
    },
    async close() {
      await launcher.idle();
      await runtime.close();
    },
  };
}

export const repoRoot = path.resolve(import.meta.dirname, '../..');
