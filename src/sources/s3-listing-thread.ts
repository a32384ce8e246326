/**
 * Worker-thread entry for S3ListingWorker (s3-listing-worker.ts): loads the AWS SDK and makes one
 * listing when the main thread asks for it, then posts every file back and exits. Loading the SDK
 * and parsing the listing's XML are ~0.2 s of CPU at 1,460 objects; here they run on another
 * core while the main thread opens DuckDB and loads the pipeline.
 */
import '../quiet-sdk-warning.js';
import { parentPort, workerData } from 'node:worker_threads';
import { createS3Client } from './s3-client.js';
import type { ListingReply, ListingWorkerData } from './s3-listing-worker.js';
import { S3Source } from './s3-source.js';
import { type SkippedKey, SourceError, type SourceFile } from './source.js';

const data = workerData as ListingWorkerData;
const port = parentPort;
// The client (and its SDK) is made while the main thread still opens the warehouse.
const source = new S3Source({
  // This thread's process.env is a copy of the caller's env: the same client the caller would make.
  client: createS3Client(data.isProcessEnv ? process.env : data.env),
  bucket: data.bucket,
  prefix: data.prefix,
  ownsClient: true,
});

port?.once('message', async () => {
  const files: SourceFile[] = [];
  const skipped: SkippedKey[] = [];
  let reply: ListingReply;
  try {
    for await (const file of source.list({ onSkipped: (key) => skipped.push(key) })) files.push(file);
    reply = { files, skipped };
  } catch (error) {
    reply = {
      error: {
        message: error instanceof Error ? error.message : String(error),
        source: error instanceof SourceError,
        transient: error instanceof SourceError && error.transient,
      },
    };
  }
  port.postMessage(reply);
  await source.close();
  port.close();
});
