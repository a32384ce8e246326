import { isUtf8 } from 'node:buffer';

/*
 * Bytes that are not UTF-8 decode to lone low surrogates U+DC80..U+DCFF (as Python's
 * "surrogateescape"): decoding valid UTF-8 never yields a lone surrogate, so they mark exactly the
 * bad bytes, and the record that holds them can name the first one.
 */
export const ESCAPED = /[\uDC80-\uDCFF]/;
export const ESCAPED_ALL = /[\uDC80-\uDCFF]/g;

/** The byte an escape stands for, as two upper-case hex digits. */
export function escapedByte(char: string): string {
  return (char.charCodeAt(0) - 0xdc00).toString(16).toUpperCase().padStart(2, '0');
}

/** Streaming UTF-8 decoding that keeps a character split over chunks whole and escapes bad bytes. */
export class Utf8Decoder {
  private carry: Buffer | null = null;
  constructor(private readonly onInvalid: () => void) {}

  write(chunk: Buffer): string {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const complete = completeLength(bytes);
    this.carry = complete < bytes.length ? Buffer.from(bytes.subarray(complete)) : null;
    return this.decode(bytes.subarray(0, complete));
  }

  end(): string {
    const rest = this.carry;
    this.carry = null;
    return rest ? this.decode(rest) : '';
  }

  private decode(bytes: Buffer): string {
    // The common case: valid UTF-8, checked in native code.
    if (isUtf8(bytes)) return bytes.toString('utf8');
    this.onInvalid();
    return escapeInvalid(bytes);
  }
}

/** Where a trailing, still incomplete UTF-8 sequence starts (the whole length when there is none). */
function completeLength(bytes: Buffer): number {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k] as number;
    if (b < 0x80) return n;
    if (b >= 0xc0) return sequenceLength(b) > k ? n - k : n;
  }
  return n;
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Valid runs decoded as usual; each byte that does not start a valid sequence becomes U+DC00 + byte. */
function escapeInvalid(bytes: Buffer): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = sequenceLength(b);
    if (len > 0 && i + len <= n && validSequence(bytes, i, len)) {
      i += len;
      continue;
    }
    out += bytes.toString('utf8', runStart, i) + String.fromCharCode(0xdc00 + b);
    i++;
    runStart = i;
  }
  return out + bytes.toString('utf8', runStart, n);
}

function validSequence(bytes: Buffer, at: number, len: number): boolean {
  const lead = bytes[at] as number;
  const second = bytes[at + 1] as number;
  // No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF.
  const [low, high] =
    lead === 0xe0
      ? [0xa0, 0xbf]
      : lead === 0xed
        ? [0x80, 0x9f]
        : lead === 0xf0
          ? [0x90, 0xbf]
          : lead === 0xf4
            ? [0x80, 0x8f]
            : [0x80, 0xbf];
  if (second < low || second > high) return false;
  for (let k = 2; k < len; k++) {
    const c = bytes[at + k] as number;
    if (c < 0x80 || c > 0xbf) return false;
  }
  return true;
}
