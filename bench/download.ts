/**
 * List + download only: streams every billing file of a source to nowhere, through the pipeline's own
 * Source (same S3 client, same concurrency as the ingest). The gap between this and the pipeline's
 * billing_events time is what parsing and inserting cost on top of moving the bytes.
 *
 * With `"listOnly": true` it only lists: node start, the S3 client and one listing, the floor of a
 * no-op re-run.
 *
 * usage: node dist/bench/download.js '{"source":"s3://bucket/prefix/","concurrency":2}'
 * prints one JSON line: { files, bytes, listMs, downloadMs }
 */
// First, as in the CLI's entry: silences the AWS SDK's Node 20 notice before any S3 client exists.
import '../src/quiet-sdk-warning.js';
import { createSource } from '../src/sources/create-source.js';
import type { SourceFile } from '../src/sources/source.js';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as {
    source: string;
    concurrency?: number;
    listOnly?: boolean;
  };
  const source = createSource(args.source, process.env);
  try {
    const started = performance.now();
    const files: SourceFile[] = [];
    for await (const file of source.list()) files.push(file);
    const listed = performance.now();
    let bytes = 0;
    let next = args.listOnly ? files.length : 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++] as SourceFile;
        const stream = await source.open(file.key);
        for await (const chunk of stream) bytes += (chunk as Buffer).length;
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency ?? 2, Math.max(files.length, 1)) }, worker),
    );
    const done = performance.now();
    process.stdout.write(
      `${JSON.stringify({ files: files.length, bytes, listMs: Math.round(listed - started), downloadMs: Math.round(done - listed) })}\n`,
    );
  } finally {
    await source.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `download: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
