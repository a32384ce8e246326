import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * A source download as both parsers read it: its bytes counted and hashed as stored (compressed,
 * for a .gz: the content hash finds copies delivered under another key), then gunzipped if needed.
 */
export interface MeasuredInput {
  /** The text stream to parse (the download itself, or its gunzipped form). */
  stream: Readable;
  /** Bytes read from the source so far. */
  bytes(): number;
  /** SHA-256 (hex) of the bytes as stored; call once the download has ended. */
  contentHash(): string;
}

export function measuredInput(
  input: Readable,
  gzip: boolean,
  onProgress?: (bytes: number) => void,
): MeasuredInput {
  let bytes = 0;
  const hash = createHash('sha256');
  input.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
    onProgress?.(bytes);
  });
  let stream: Readable = input;
  if (gzip) {
    const gunzip = createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    stream = input.pipe(gunzip);
  }
  return { stream, bytes: () => bytes, contentHash: () => hash.digest('hex') };
}
