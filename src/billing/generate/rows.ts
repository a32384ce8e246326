import { SCHEMA_COLUMNS } from '../schema.js';
import { weekday } from './days.js';
import { DIRTY_KINDS, dirtyLine } from './dirty.js';
import {
  CURRENCIES,
  creditMicros,
  hourlyCdf,
  OPERATIONS,
  operationPickers,
  type Population,
  REGIONS,
  RESOURCE_TYPES,
  resourceId,
  SortedTimes,
  TIER_FAILURE_RATE,
  TIERS,
  userId,
} from './distributions.js';
import { clockSeconds, formatMicros, millis } from './format.js';
import { type AliasTable, mixSeed, Rng } from './random.js';
import { type ChunkWriter, writeClock } from './writer.js';

/** What one file should contain; everything is derived from these values alone. */
export interface FileSpec {
  /** `YYYY-MM-DD` */
  day: string;
  /** Days since the epoch of `day`. */
  dayNumber: number;
  rows: number;
  dirtyRows: number;
  seed: number;
}

export const HEADER = `${SCHEMA_COLUMNS.join(',')}\n`;
/** ~1 MiB per write: few stream callbacks and syscalls, yet flat memory. */
export const CHUNK_BYTES = 1 << 20;

const HOUR_MS = 3_600_000;
/** `YYYY-MM-DD HH:MM:SS` (no zone, no millis) as some exporters write it. */
const SPACE_FORMAT_SHARE = 0.02;
/** Of the events in the first hour of the day, the share written as local time in +02:00. */
const OFFSET_FORMAT_SHARE = 0.25;
/** Failed operations are mostly not charged at all, the rest partially. */
const FAILED_UNCHARGED_SHARE = 0.6;
const REFUND_SHARE = 0.005;

const COMMA = 44;
const SPACE = 32;
const Z = 90;
const NEWLINE = 10;

/** Timestamp styles of clean rows. */
const ISO_Z = 0;
const SPACED = 1;
const OFFSET = 2;

const encode = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const PLUS_TWO = encode('+02:00');
/** `,region,tier,operation,success` for every combination, indexed by {@link middleIndex}. */
const MIDDLE: Uint8Array[] = [];
for (const region of REGIONS) {
  for (const tier of TIERS) {
    for (const op of OPERATIONS)
      MIDDLE.push(encode(`,${region},${tier},${op},false`), encode(`,${region},${tier},${op},true`));
  }
}

function middleIndex(region: number, tier: number, op: number, success: boolean): number {
  return ((region * TIERS.length + tier) * OPERATIONS.length + op) * 2 + (success ? 1 : 0);
}

function timestampText(date: string, t: number, style: number): string {
  if (style === SPACED) return `${date} ${clockSeconds(t)}`;
  return `${date}T${clockSeconds(t)}.${millis(t)}${style === OFFSET ? '+02:00' : 'Z'}`;
}

/** Variable-length ASCII strings packed into one buffer: far less memory than a string or Buffer each. */
class Packed {
  readonly bytes: Uint8Array;
  readonly start: Int32Array;

  constructor(count: number, item: (i: number) => string) {
    this.start = new Int32Array(count + 1);
    // Encoded one by one into a growing buffer, so millions of items never exist as strings at once.
    let bytes = Buffer.allocUnsafe(Math.max(256, count * 32));
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const s = item(i);
      if (pos + s.length > bytes.length) {
        const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, pos + s.length));
        bytes.copy(grown, 0, 0, pos);
        bytes = grown;
      }
      this.start[i] = pos;
      pos += bytes.write(s, pos, 'latin1');
    }
    this.start[count] = pos;
    this.bytes = bytes.subarray(0, pos);
  }
}

/** Per-population text, encoded once per run rather than per row. */
export class RowText {
  /** `res-<16 hex>,<user_id>,` per resource. */
  readonly heads: Packed;
  /** `-<user_id>,<currency>\n` per user: the end of the invoice id and the row. */
  readonly tails: Packed;

  constructor(readonly pop: Population) {
    const owner = new Int32Array(pop.resType.length);
    for (let u = 0; u < pop.userCount; u++) {
      owner.fill(u, pop.resStart[u] as number, pop.resStart[u + 1] as number);
    }
    this.heads = new Packed(owner.length, (r) => `${resourceId(pop, r)},${userId(owner[r] as number)},`);
    this.tails = new Packed(
      pop.userCount,
      (u) => `-${userId(u)},${CURRENCIES[pop.userCurrency[u] as number]}\n`,
    );
  }
}

/** The drawn values of a row, enough to rebuild its text on the (rare) dirty path. */
interface CleanRow {
  t: number;
  style: number;
  user: number;
  r: number;
  op: number;
  success: boolean;
  micros: number;
}

/**
 * Produces one file's rows (not the header) into a ChunkWriter, a buffer at a time. Clean rows draw only
 * from `rng` and dirty-row decisions from a second stream, so raising dirtyRate corrupts some rows
 * without changing any of the others. Rows come out in ascending local (written) time.
 */
export class FileRows {
  readonly stats = { rows: 0, dirtyRows: 0 };
  private readonly rng: Rng;
  private readonly dirtyRng: Rng;
  private readonly times: SortedTimes;
  private readonly dateBytes: Uint8Array;
  /**
   * `YYYY-MM-DDTHH:MM:SS.` of the current second. Rows come in time order and share a second whenever a
   * day has more than ~86k rows, so this saves re-formatting the clock for most of them.
   */
  private readonly isoPrefix: Uint8Array;
  private prefixSecond = -1;
  /** `,resource_type,INV-YYYYMM` per resource type: invoices are per account and calendar month. */
  private readonly typeAndInvoice: Uint8Array[];
  private readonly yyyymm: number;
  private dirtyLeft: number;
  private kind: number;
  private index = 0;

  constructor(
    private readonly spec: FileSpec,
    private readonly text: RowText,
  ) {
    this.rng = new Rng(spec.seed);
    this.dirtyRng = new Rng(mixSeed(spec.seed, 0x0d1e7));
    this.times = new SortedTimes(this.rng, spec.rows, hourlyCdf(weekday(spec.dayNumber)));
    this.dateBytes = encode(spec.day);
    this.isoPrefix = encode(`${spec.day}T00:00:00.`);
    this.yyyymm = Number(spec.day.slice(0, 4)) * 100 + Number(spec.day.slice(5, 7));
    this.typeAndInvoice = RESOURCE_TYPES.map((t) => encode(`,${t},INV-${this.yyyymm}`));
    this.dirtyLeft = spec.dirtyRows;
    this.kind = spec.seed % DIRTY_KINDS.length;
  }

  get done(): boolean {
    return this.index >= this.spec.rows;
  }

  /** Writes rows until the writer is full or the file is complete. */
  fill(out: ChunkWriter): void {
    const { rng, times, text } = this;
    const pop = text.pop;
    const heads = text.heads;
    const tails = text.tails;
    const total = this.spec.rows;
    let i = this.index;
    for (; i < total && !out.full; i++) {
      const t = times.next();
      const user = pop.activity.pick(rng);
      const first = pop.resStart[user] as number;
      const owned = (pop.resStart[user + 1] as number) - first;
      // Squaring the uniform favours a user's first resources: a main workload plus occasional side ones.
      const f = rng.float();
      const r = first + Math.floor(f * f * owned);
      const type = pop.resType[r] as number;
      const op = (operationPickers[type] as AliasTable).pick(rng);
      const tier = pop.userTier[user] as number;
      const success = !rng.chance(TIER_FAILURE_RATE[tier] as number);
      let micros = creditMicros(op, rng);
      const adjust = rng.float();
      if (!success) {
        if (adjust < FAILED_UNCHARGED_SHARE) micros = 0;
      } else if (adjust < REFUND_SHARE) {
        micros = -micros;
      }
      const styleDraw = rng.float();
      // Local time just after midnight in UTC+2 is the previous UTC day: deliberately cross-partition.
      const style =
        styleDraw < SPACE_FORMAT_SHARE
          ? SPACED
          : t < HOUR_MS && styleDraw < SPACE_FORMAT_SHARE + OFFSET_FORMAT_SHARE
            ? OFFSET
            : ISO_Z;
      const middle = MIDDLE[middleIndex(pop.resRegion[r] as number, tier, op, success)] as Uint8Array;

      // Selection sampling: exactly spec.dirtyRows dirty rows, spread uniformly over the file.
      if (this.dirtyLeft > 0 && this.dirtyRng.float() * (total - i) < this.dirtyLeft) {
        this.writeDirty(out, { t, style, user, r, op, success, micros });
        continue;
      }
      if (style === SPACED) {
        out.bytes(this.dateBytes);
        out.byte(SPACE);
        out.clock(t);
      } else {
        const second = Math.floor(t / 1000);
        if (second !== this.prefixSecond) {
          this.prefixSecond = second;
          writeClock(this.isoPrefix, 11, t);
        }
        out.bytes(this.isoPrefix);
        out.three(t % 1000);
        if (style === OFFSET) out.bytes(PLUS_TWO);
        else out.byte(Z);
      }
      out.byte(COMMA);
      out.range(heads.bytes, heads.start[r] as number, heads.start[r + 1] as number);
      out.micros(micros);
      out.bytes(middle);
      out.bytes(this.typeAndInvoice[type] as Uint8Array);
      out.range(tails.bytes, tails.start[user] as number, tails.start[user + 1] as number);
    }
    this.stats.rows += i - this.index;
    this.index = i;
  }

  private writeDirty(out: ChunkWriter, row: CleanRow): void {
    const pop = this.text.pop;
    const id = userId(row.user);
    const fields = [
      timestampText(this.spec.day, row.t, row.style),
      resourceId(pop, row.r),
      String(id),
      formatMicros(row.micros),
      REGIONS[pop.resRegion[row.r] as number] as string,
      TIERS[pop.userTier[row.user] as number] as string,
      OPERATIONS[row.op] as string,
      String(row.success),
      RESOURCE_TYPES[pop.resType[row.r] as number] as string,
      `INV-${this.yyyymm}-${id}`,
      CURRENCIES[pop.userCurrency[row.user] as number] as string,
    ];
    const source = { fields, day: this.spec.day, time: row.t, userId: id, micros: row.micros };
    out.text(dirtyLine(this.kind, source, this.dirtyRng));
    out.byte(NEWLINE);
    this.kind = (this.kind + 1) % DIRTY_KINDS.length;
    this.dirtyLeft--;
    this.stats.dirtyRows++;
  }
}
