/**
 * The API's response types, inferred from the zod schemas its routes are declared with (and that
 * /api/openapi.json is generated from). The web UI imports them with `import type` (see
 * web/src/types.ts), so a field the server renames or a UI that misreads one fails the type check.
 * Type-only: nothing here reaches the UI bundle, and the schema modules import only zod.
 */

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
import type { BackfillSchema, ScheduleSchema, SensorSchema, TickSchema } from './run-schemas.js';

export type ApiBackfill = z.infer<typeof BackfillSchema>;
export type ApiTick = z.infer<typeof TickSchema>;
export type ApiSensor = z.infer<typeof SensorSchema>;
export type ApiSchedule = z.infer<typeof ScheduleSchema>;
