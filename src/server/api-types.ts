/**
 * The API's response types, inferred from the zod schemas its routes are declared with (and that
 * /api/openapi.json is generated from). The web UI imports them with `import type` (see
 * web/src/types.ts), so a field the server renames or a UI that misreads one fails the type check.
 * Type-only: nothing here reaches the UI bundle, and the schema modules import only zod.
 */

export type {
  AssetChecks,
  AssetDetail,
  AssetGraph,
  AssetSummary,
  CheckResult,
  Materializations,
  PartitionCounts,
  PartitionDetail,
  PartitionStatus,
  Partitions,
} from './asset-schemas.js';
export type {
  FileBehind,
  LineageDay,
  RejectedFiles,
  RejectedReasons,
  RejectedRows,
  SourceFiles,
  SourceRow,
  SourceRows,
} from './data-schemas.js';
export type {
  Breakdown,
  BreakdownRow,
  Daily,
  FxCoverage,
  InsightDay,
  InsightOptions,
  Money,
  Report,
  Summary,
} from './insights-schemas.js';
export type {
  ApiAssetRun,
  ApiBackfillDetail,
  ApiRun,
  ApiRunDetail,
  ApiRunEvent,
} from './run-schemas.js';

import type { z } from '@hono/zod-openapi';
import type { AssetGraph } from './asset-schemas.js';
import type {
  LineageDay,
  RejectedFiles,
  RejectedReasons,
  RejectedRows,
  SourceFiles,
  SourceRows,
} from './data-schemas.js';
import type {
  Breakdown,
  Daily,
  DIMENSION_VALUES,
  FxCoverage,
  InsightOptions,
  Report,
  Summary,
} from './insights-schemas.js';
import type { BackfillSchema, ScheduleSchema, SensorSchema, TickSchema } from './run-schemas.js';

export type ApiBackfill = z.infer<typeof BackfillSchema>;
export type ApiTick = z.infer<typeof TickSchema>;
export type ApiSensor = z.infer<typeof SensorSchema>;
export type ApiSchedule = z.infer<typeof ScheduleSchema>;

/**
 * What each GET path answers, so the UI names a path and gets its type (`useGet` in
 * web/src/hooks.ts) instead of pairing them by hand.
 */
export type ApiGetRoutes = {
  '/api/assets': AssetGraph;
  '/api/insights/summary': Summary;
  '/api/insights/daily': Daily;
  '/api/insights/options': InsightOptions;
  '/api/insights/fx': FxCoverage;
  '/api/insights/report': Report;
  '/api/lineage/day': LineageDay;
  '/api/lineage/rows': SourceRows;
  '/api/data/rejected-reasons': RejectedReasons;
  '/api/data/rejected-rows': RejectedRows;
  '/api/data/rejected-files': RejectedFiles;
  '/api/data/files': SourceFiles;
} & { [P in `/api/insights/breakdown/${(typeof DIMENSION_VALUES)[number]}`]: Breakdown };
