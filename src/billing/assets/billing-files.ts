import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { AssetDefinition, PartitionMaterialization } from '../../orchestrator/asset.js';
import type { SkippedKey, Source, SourceFile } from '../../sources/source.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import { isNoSpaceError, NoSpaceError } from '../../warehouse/duckdb/duckdb-errors.js';
import { csvText } from '../csv-text.js';
import * as files from '../sql/files.js';
import {
  ADD_NORMALIZED_COLUMN,
  BILLING_FILES_COLUMNS,
  billingFilesMigration,
  billingTables,
  HAS_NORMALIZED_COLUMN,
  SETUP_LOCK,
} from '../sql/tables.js';
import { withTempDir } from '../temp-files.js';

/** LISTING_DIFF's counts. */
interface ListingDiff {
  new_keys: number;
  new_files: number;
  changed_files: number;
  gone_files: number;
  pending_files: number;
  missing_files: number;
}

function listingDiff(row: Record<keyof ListingDiff, number | string | bigint> | undefined): ListingDiff {
  const n = (key: keyof ListingDiff) => Number(row?.[key] ?? 0);
  return {
    new_keys: n('new_keys'),
    new_files: n('new_files'),
    changed_files: n('changed_files'),
    gone_files: n('gone_files'),
    pending_files: n('pending_files'),
    missing_files: n('missing_files'),
  };
}

export interface BillingFilesOptions {
  source: Source;
  home: string;
}

/**
 * `billing_files`: the inventory of source files, by key and version. Listing the source and
 * comparing versions is how the pipeline knows what is new, changed, missing, or forced.
 */
export function billingFilesAsset(options: BillingFilesOptions): AssetDefinition {
  return {
    name: 'billing_files',
    description:
      'Inventory of billing CSV files in the source, with versions (ETag or mtime+size) and load status',
    deps: [],
    partitioning: 'daily',
    group: 'ingest',
    async setup(warehouse) {
      await warehouse.transaction(async (tx) => {
        await tx.lock(SETUP_LOCK);
        const dialect = sqlDialect(warehouse.dialect);
        const columns = await tx.all<{ column_name: string; is_nullable: string }>(BILLING_FILES_COLUMNS);
        if (columns.length > 0)
          for (const statement of billingFilesMigration(dialect, columns)) await tx.exec(statement);
        for (const statement of billingTables(dialect)) await tx.exec(statement);
        const [column] = await tx.all<{ n: number }>(HAS_NORMALIZED_COLUMN);
        if (Number(column?.n ?? 0) === 0) await tx.exec(ADD_NORMALIZED_COLUMN);
      });
    },
    async materialize(ctx) {
      const started = Date.now();
      const listing: SourceFile[] = [];
      // By key: a retried listing may report a key twice.
      const skippedByKey = new Map<string, SkippedKey>();
      const onSkipped = (skipped: SkippedKey) => skippedByKey.set(skipped.key, skipped);
      for await (const file of options.source.list({ signal: ctx.signal, onSkipped })) listing.push(file);
      const skipped = [...skippedByKey.values()];
      const listMs = Date.now() - started;
      ctx.log(`listed ${listing.length} billing file(s) in ${options.source.uri}`, { listMs });
      if (skipped.length > 0) {
        // Every run says it again: the key is still there and still not counted.
        ctx.log(
          `${skipped.length} file(s) skipped, recorded in billing_files as rejected: ${skipped
            .slice(0, 5)
            .map((k) => `${k.key}: ${k.reason}`)
            .join('; ')}${skipped.length > 5 ? '; …' : ''}`,
          { skipped: skipped.length },
        );
      }

      return withTempDir(options.home, async (dir) => {
        const path = join(dir, 'listing.csv');
        const out = createWriteStream(path);
        try {
          for (const f of listing) {
            if (!out.write(`${csvText(f.key)},${f.partition},${f.size},${csvText(f.version)},\n`))
              await once(out, 'drain');
          }
          for (const k of skipped) {
            if (!out.write(`${csvText(k.key)},,${k.size},${csvText(k.version)},${csvText(k.reason)}\n`))
              await once(out, 'drain');
          }
          out.end();
          await once(out, 'finish');
        } catch (error) {
          // Node's ENOSPC names no path for a write: say which file, as every full-disk error does.
          if (isNoSpaceError(error)) throw new NoSpaceError(path, { cause: error });
          throw error;
        }

        const diffStarted = Date.now();
        const range = [ctx.range?.from ?? null, ctx.range?.to ?? null];
        // One transaction (one connection: PostgreSQL's staged listing is a temp table) that stages the
        // listing, diffs it against the inventory in one query, and writes only when the diff says so.
        const diff = await ctx.warehouse.transaction(async (tx) => {
          await tx.lock(files.LISTING_LOCK);
          await tx.stageCsv({ name: 'staged_listing', paths: [path], columns: files.LISTING_COLUMNS });
          for (const statement of files.CREATE_LISTING) await tx.exec(statement);
          const [row] = await tx.all<Record<keyof ListingDiff, number | string | bigint>>(
            files.LISTING_DIFF,
            range,
          );
          const counts = listingDiff(row);
          const writes = counts.new_keys + counts.changed_files + counts.gone_files > 0;
          if (writes) {
            await tx.exec(files.UPDATE_KNOWN_FILES, range);
            await tx.exec(files.INSERT_NEW_FILES);
            await tx.exec(files.MARK_MISSING_FILES);
          }
          await tx.exec(files.DROP_LISTING);
          await tx.exec(sqlDialect(ctx.warehouse.dialect).unstage('staged_listing'));
          return { counts, writes };
        });

        // Nothing new, changed, gone or waiting: no further query (the no-op fast path).
        const pending =
          diff.writes || diff.counts.pending_files > 0
            ? await ctx.warehouse.all<{ source_key: string; version: string; partition: string }>(
                files.FILES_TO_LOAD,
              )
            : [];
        const byPartition = new Map<string, string[]>();
        for (const f of pending) {
          const inputs = byPartition.get(f.partition) ?? [];
          inputs.push(`${f.source_key}@${f.version}`);
          byPartition.set(f.partition, inputs);
        }
        const partitions: PartitionMaterialization[] = [...byPartition].map(([partition, inputs]) => ({
          partition,
          rowCount: inputs.length,
          inputs,
        }));
        const newFiles = diff.counts.new_files;
        const missing = diff.writes
          ? Number((await ctx.warehouse.all<{ n: number }>(files.MISSING_COUNT))[0]?.n ?? 0)
          : diff.counts.missing_files;
        const diffMs = Date.now() - diffStarted;
        const metadata = {
          listed: listing.length,
          skipped: skipped.length,
          skippedExample: skipped[0] ? `${skipped[0].key}: ${skipped[0].reason}` : null,
          new: newFiles,
          toLoad: pending.length,
          missing,
          changedFiles: diff.counts.changed_files,
          goneFiles: diff.counts.gone_files,
          // How the listing met the inventory: one set-based diff query, then writes only if needed.
          diff: diff.writes ? 'applied' : 'unchanged',
          listMs,
          diffMs,
        };
        ctx.log(`${pending.length} file(s) to load (${newFiles} new)`, metadata);
        return { changed: pending.length > 0, partitions, metadata };
      });
    },
  };
}
