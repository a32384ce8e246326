import { createRoute, z } from '@hono/zod-openapi';
import { partitionLineage } from '../../billing/lineage.js';
import type { AssetDefinition } from '../../orchestrator/asset.js';
import { CheckStore } from '../../orchestrator/check-runner.js';
import type { Runtime } from '../../runtime.js';
import type { Row } from '../../warehouse/warehouse.js';
import { AssetParam, DaySchema, json, limitParam } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import {
  AssetChecksSchema,
  AssetDetailSchema,
  AssetGraphSchema,
  MaterializationsSchema,
  PartitionDetailSchema,
  PartitionsSchema,
} from '../asset-schemas.js';
import { assetSummaries, PARTITION_CODES, partitionState, partitionStrip } from '../asset-state.js';
import { MATERIALIZATION_HISTORY } from '../asset-status-sql.js';
import { HttpError } from '../http-error.js';
import { registerMaterializeRoute } from './asset-actions.js';

export function registerAssetRoutes(app: App, deps: AppDeps): void {
  const { runtime } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets',
      tags: ['assets'],
      summary: 'All assets with latest status and freshness, and the lineage graph edges',
      responses: json(AssetGraphSchema, 'The asset graph'),
    }),
    async (c) => {
      const assets = await assetSummaries(runtime);
      const edges = assets.flatMap((a) => a.deps.map((dep) => ({ source: dep, target: a.name })));
      return c.json({ assets, edges }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets/{name}',
      tags: ['assets'],
      summary: 'One asset: definition, status, freshness, transitive upstream and downstream',
      request: { params: AssetParam },
      responses: json(AssetDetailSchema, 'The asset'),
    }),
    async (c) => {
      const asset = findAsset(runtime, c.req.valid('param').name);
      const [summary] = await assetSummaries(runtime, asset.name);
      if (!summary) throw new HttpError(404, 'not_found', `unknown asset "${asset.name}"`);
      return c.json(
        {
          asset: summary,
          upstream: runtime.graph.reachable(asset.name, 'up'),
          downstream: runtime.graph.reachable(asset.name, 'down'),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets/{name}/partitions',
      tags: ['assets'],
      summary: 'The current state of every day of a daily asset, one character per day',
      description: `\`states\` has one character per day from \`first\` to \`last\`: ${Object.entries(
        PARTITION_CODES,
      )
        .map(([status, code]) => `\`${code}\` ${status}`)
        .join(', ')}.`,
      request: { params: AssetParam },
      responses: json(PartitionsSchema, 'Partition states'),
    }),
    async (c) => {
      const asset = dailyAsset(runtime, c.req.valid('param').name);
      const strip = await partitionStrip(runtime, asset);
      return c.json({ asset: asset.name, ...strip, codes: PARTITION_CODES }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets/{name}/partitions/{day}',
      tags: ['assets'],
      summary:
        'One day of a daily asset: its state, the runs that built it, the files and sample source rows',
      request: {
        params: AssetParam.extend({ day: DaySchema.openapi({ param: { name: 'day', in: 'path' } }) }),
        query: z.object({ rows: limitParam(500, 20) }),
      },
      responses: json(PartitionDetailSchema, 'The partition'),
    }),
    async (c) => {
      const { name, day } = c.req.valid('param');
      const asset = dailyAsset(runtime, name);
      const [state, lineage] = await Promise.all([
        partitionState(runtime, asset, day),
        partitionLineage(runtime, asset.name, day, c.req.valid('query').rows),
      ]);
      return c.json(
        {
          asset: asset.name,
          partition: day,
          status: state?.status ?? null,
          materialized_at: state?.materialized_at ?? null,
          materializations: lineage.materializations,
          files: lineage.files,
          rows: lineage.rows,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets/{name}/materializations',
      tags: ['assets'],
      summary: 'Materialization history of an asset, newest first, with row counts, durations and metadata',
      request: { params: AssetParam, query: z.object({ limit: limitParam(1000, 100) }) },
      responses: json(MaterializationsSchema, 'History'),
    }),
    async (c) => {
      const asset = findAsset(runtime, c.req.valid('param').name);
      const rows = await runtime.warehouse.all(MATERIALIZATION_HISTORY, [
        asset.name,
        c.req.valid('query').limit,
      ]);
      return c.json({ materializations: rows.map(withParsedMetadata) }, 200);
    },
  );

  registerCheckRoute(app, runtime);
  registerMaterializeRoute(app, deps);
}

function registerCheckRoute(app: App, runtime: Runtime): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/assets/{name}/checks',
      tags: ['assets'],
      summary: "The latest result of each of an asset's checks per partition, failing first",
      description:
        '`withholds` says whether a failing `error` result holds its partition back from downstream assets; `fx_rate_available` does not (the normalized totals it concerns are NULL instead). With no FX source configured it is a `warn` notice.',
      request: { params: AssetParam, query: z.object({ failed: z.enum(['true', 'false']).optional() }) },
      responses: json(AssetChecksSchema, 'Check results'),
    }),
    async (c) => {
      const asset = findAsset(runtime, c.req.valid('param').name);
      const defined = new Map((asset.checks ?? []).map((check) => [check.name, check]));
      const latest = await new CheckStore(runtime.warehouse).latest({ asset: asset.name });
      const rows = latest
        .filter((r) => c.req.valid('query').failed !== 'true' || !r.passed)
        .map((r) => ({
          ...r,
          evaluated_at: r.evaluated_at === null ? null : String(r.evaluated_at),
          withholds: r.severity === 'error' && defined.get(r.check_name)?.withholds !== false,
        }))
        .sort((a, b) => Number(a.passed) - Number(b.passed));
      const failing = (severity: string) => latest.filter((r) => !r.passed && r.severity === severity).length;
      return c.json(
        { asset: asset.name, failing: { error: failing('error'), warn: failing('warn') }, checks: rows },
        200,
      );
    },
  );
}

function findAsset(runtime: Runtime, name: string): AssetDefinition {
  if (!runtime.graph.has(name)) {
    throw new HttpError(
      404,
      'unknown_asset',
      `unknown asset "${name}"; known assets: ${runtime.graph.assets.map((a) => a.name).join(', ')}`,
    );
  }
  return runtime.graph.get(name);
}

function dailyAsset(runtime: Runtime, name: string): AssetDefinition {
  const asset = findAsset(runtime, name);
  if (asset.partitioning !== 'daily') {
    throw new HttpError(400, 'not_partitioned', `asset "${name}" is not partitioned by day`);
  }
  return asset;
}

/** The ledger keeps metadata as JSON text; the API returns it as an object. */
function withParsedMetadata(row: Row): Row {
  if (typeof row.metadata !== 'string') return row;
  try {
    return { ...row, metadata: JSON.parse(row.metadata) };
  } catch {
    return row;
  }
}
