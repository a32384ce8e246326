import { z } from '@hono/zod-openapi';
import { parseDay } from '../orchestrator/days.js';

/** Shared request and response pieces of the API's OpenAPI document. */

const isDay = (value: string): boolean => {
  try {
    parseDay(value);
    return true;
  } catch {
    return false;
  }
};

export const DaySchema = z
  .string()
  .refine(isDay, { message: 'expected a real calendar day as YYYY-MM-DD, e.g. 2025-04-23' })
  .openapi({ example: '2025-04-23', description: 'UTC day, YYYY-MM-DD' });

export const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error');

/** A result row: column name to JSON value (DECIMAL money as exact strings, timestamps ISO-8601 UTC). */
export const RowSchema = z.record(z.string(), z.unknown()).openapi('Row');

export const errorResponses = {
  400: { content: { 'application/json': { schema: ErrorSchema } }, description: 'Invalid request' },
  404: { content: { 'application/json': { schema: ErrorSchema } }, description: 'Not found' },
} as const;

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { 200: { content: { 'application/json': { schema } }, description }, ...errorResponses };
}

/** Query-string integers arrive as text. */
export const limitParam = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback).openapi({ example: fallback });
export const offsetParam = z.coerce.number().int().min(0).max(1_000_000_000).default(0);

export const AssetParam = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'daily_aggregates' }),
});

/** Dimension filters shared by the insights and the lineage drill-down. */
export const FilterQuery = z.object({
  from: DaySchema.optional(),
  to: DaySchema.optional(),
  region: z.string().min(1).max(200).optional(),
  service_tier: z.string().min(1).max(200).optional(),
  operation_type: z.string().min(1).max(200).optional(),
  resource_type: z.string().min(1).max(200).optional(),
  currency: z.string().min(1).max(20).optional(),
  user_id: z.coerce.number().int().optional(),
});
export type Filters = z.infer<typeof FilterQuery>;
