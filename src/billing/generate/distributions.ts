import {
  KNOWN_CURRENCIES,
  KNOWN_OPERATIONS,
  KNOWN_REGIONS,
  KNOWN_RESOURCE_TYPES,
  KNOWN_TIERS,
} from '../schema.js';
import { AliasTable, type Rng } from './random.js';

// Categories are small integer indexes into these tables so rows are built from cached strings.

export const REGIONS = KNOWN_REGIONS;
export const REGION_WEIGHTS = [34, 18, 14, 10, 9, 9, 6] as const;

export const CURRENCIES = KNOWN_CURRENCIES;
const USD = 0;
const EUR = 1;
const GBP = 2;
const JPY = 3;

export const TIERS = KNOWN_TIERS;
/** Free accounts run on throttled, best-effort capacity, so they fail most. */
export const TIER_FAILURE_RATE = [0.06, 0.025, 0.01, 0.004] as const;
const TIER_WEIGHTS_TAIL = [45, 35, 14, 6] as const;
/** The heaviest users are overwhelmingly paying customers. */
const TIER_WEIGHTS_HEAD = [5, 20, 35, 40] as const;

export const OPERATIONS = KNOWN_OPERATIONS;
/** Credit range per operation in micro-credits (1e-6), drawn log-uniformly so small charges dominate. */
export const CREDIT_RANGE_MICROS: readonly (readonly [number, number])[] = [
  [10_000, 25_000_000], // compute: 0.01 .. 25
  [100, 2_000_000], // storage: 0.0001 .. 2
  [1, 50_000], // read: 0.000001 .. 0.05
  [10, 100_000], // write: 0.00001 .. 0.1
  [500, 8_000_000], // transfer: 0.0005 .. 8
  [1_000, 3_000_000], // query: 0.001 .. 3
];

export const RESOURCE_TYPES = KNOWN_RESOURCE_TYPES;
const RESOURCE_TYPE_WEIGHTS = [26, 22, 16, 18, 9, 9] as const;
/** Weights over OPERATIONS per resource type: a bucket is read and written, never "computed". */
const OPERATION_WEIGHTS_BY_RESOURCE: readonly (readonly number[])[] = [
  [70, 10, 0, 0, 20, 0], // vm
  [0, 30, 35, 20, 15, 0], // bucket
  [0, 15, 20, 20, 0, 45], // database
  [85, 0, 0, 0, 15, 0], // function
  [0, 0, 60, 35, 5, 0], // cache
  [0, 0, 45, 45, 10, 0], // queue
];

/** Share of a user's resources placed outside their home region (multi-region deployments). */
const FOREIGN_RESOURCE_SHARE = 0.15;
/**
 * Zipf-Mandelbrot user activity, weight 1 / (rank + ZIPF_OFFSET)^ZIPF_EXPONENT: an exponent just above 1
 * gives the long tail (top 10% of users ~70% of rows), the offset keeps the single biggest account
 * near 7% instead of 20%, so one whale does not decide the whole regional mix.
 */
const ZIPF_EXPONENT = 1.1;
const ZIPF_OFFSET = 3;
/** First user_id; ids are dense from here so they look like an account sequence. */
const FIRST_USER_ID = 1001;

/** Relative events per UTC hour: the EU morning and the US afternoon overlap around 13-17 UTC. */
const WEEKDAY_HOURS = [
  0.45, 0.35, 0.3, 0.3, 0.32, 0.4, 0.55, 0.8, 1.0, 1.1, 1.15, 1.15, 1.2, 1.35, 1.45, 1.45, 1.4, 1.3, 1.15,
  1.0, 0.9, 0.8, 0.65, 0.55,
];

export const regionPicker = new AliasTable(REGION_WEIGHTS);
const tierTail = new AliasTable(TIER_WEIGHTS_TAIL);
const tierHead = new AliasTable(TIER_WEIGHTS_HEAD);
const resourceTypePicker = new AliasTable(RESOURCE_TYPE_WEIGHTS);
export const operationPickers = OPERATION_WEIGHTS_BY_RESOURCE.map((w) => new AliasTable(w));

/** Users and their resources; fixed for a seed and size, so the same accounts recur every day. */
export interface Population {
  readonly userCount: number;
  /** Alias table over user indexes, weighted by Zipf rank. */
  readonly activity: AliasTable;
  readonly userTier: Uint8Array;
  readonly userCurrency: Uint8Array;
  /** Resources of user u are resStart[u] .. resStart[u + 1] - 1. */
  readonly resStart: Int32Array;
  readonly resType: Uint8Array;
  readonly resRegion: Uint8Array;
  readonly resHi: Uint32Array;
  readonly resLo: Uint32Array;
}

export function userCountFor(rowsPerDay: number): number {
  return Math.max(50, Math.floor(rowsPerDay / 20));
}

export function userId(user: number): number {
  return FIRST_USER_ID + user;
}

/** The billing currency follows the account's home region; UK accounts in eu-west-1 pay in GBP. */
function currencyFor(region: number, rng: Rng): number {
  const name = REGIONS[region];
  if (name === 'eu-west-1') return rng.chance(0.45) ? GBP : EUR;
  if (name === 'eu-central-1') return EUR;
  if (name === 'ap-northeast-1') return JPY;
  return USD;
}

export function buildPopulation(userCount: number, rng: Rng): Population {
  // Rank and user_id are decoupled so the busiest accounts are not simply the lowest ids.
  const rankOf = new Int32Array(userCount);
  for (let i = 0; i < userCount; i++) rankOf[i] = i;
  for (let i = userCount - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = rankOf[i] as number;
    rankOf[i] = rankOf[j] as number;
    rankOf[j] = t;
  }

  const weights = new Float64Array(userCount);
  const userTier = new Uint8Array(userCount);
  const userCurrency = new Uint8Array(userCount);
  const homeRegion = new Uint8Array(userCount);
  const resStart = new Int32Array(userCount + 1);
  const headCut = Math.max(1, Math.floor(userCount * 0.02));
  let resources = 0;
  for (let u = 0; u < userCount; u++) {
    const rank = rankOf[u] as number;
    weights[u] = 1 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT;
    const head = rank < headCut;
    userTier[u] = (head ? tierHead : tierTail).pick(rng);
    const home = regionPicker.pick(rng);
    homeRegion[u] = home;
    userCurrency[u] = currencyFor(home, rng);
    resStart[u] = resources;
    // Geometric-ish count (mostly 1-3); heavy accounts run bigger fleets.
    resources += Math.min(8, 1 + Math.floor(-Math.log(rng.floatOpen()) * 1.5)) + (head ? 6 : 0);
  }
  resStart[userCount] = resources;

  const resType = new Uint8Array(resources);
  const resRegion = new Uint8Array(resources);
  const resHi = new Uint32Array(resources);
  const resLo = new Uint32Array(resources);
  for (let u = 0; u < userCount; u++) {
    const end = resStart[u + 1] as number;
    for (let r = resStart[u] as number; r < end; r++) {
      resType[r] = resourceTypePicker.pick(rng);
      resRegion[r] = rng.chance(FOREIGN_RESOURCE_SHARE) ? regionPicker.pick(rng) : (homeRegion[u] as number);
      resHi[r] = rng.u32();
      resLo[r] = rng.u32();
    }
  }
  return {
    userCount,
    activity: new AliasTable(weights),
    userTier,
    userCurrency,
    resStart,
    resType,
    resRegion,
    resHi,
    resLo,
  };
}

export function resourceId(pop: Population, r: number): string {
  const hi = (pop.resHi[r] as number).toString(16).padStart(8, '0');
  const lo = (pop.resLo[r] as number).toString(16).padStart(8, '0');
  return `res-${hi}${lo}`;
}

/** Cumulative share of the day's events at each hour boundary (25 entries, 0 .. 1). */
export function hourlyCdf(dayOfWeek: number): Float64Array {
  const weekend = dayOfWeek === 0 || dayOfWeek === 6;
  const cdf = new Float64Array(25);
  let total = 0;
  for (let h = 0; h < 24; h++) {
    const w = WEEKDAY_HOURS[h] as number;
    // Weekends keep the shape but lose most of the business-hours peak.
    total += weekend ? 0.55 + 0.35 * w : w;
    cdf[h + 1] = total;
  }
  for (let h = 1; h <= 24; h++) cdf[h] = (cdf[h] as number) / total;
  cdf[24] = 1;
  return cdf;
}

/**
 * Yields `n` millisecond-of-day values in ascending order, distributed by an hourly CDF, in O(1) memory.
 * Uses the order-statistics recurrence max_k = max_{k+1} · U^(1/k): the descending maxima of uniforms,
 * mirrored to ascending. That avoids both storing and sorting a day's timestamps.
 */
export class SortedTimes {
  private remaining: number;
  private max = 1;
  private hour = 0;

  constructor(
    private readonly rng: Rng,
    n: number,
    private readonly cdf: Float64Array,
  ) {
    this.remaining = n;
  }

  next(): number {
    const k = this.remaining;
    if (k <= 0) return 86_399_999;
    this.remaining = k - 1;
    this.max *= Math.exp(Math.log(this.rng.floatOpen()) / k);
    const u = 1 - this.max;
    const cdf = this.cdf;
    let h = this.hour;
    while (h < 23 && u >= (cdf[h + 1] as number)) h++;
    this.hour = h;
    const lo = cdf[h] as number;
    const t = Math.floor((h + (u - lo) / ((cdf[h + 1] as number) - lo)) * 3_600_000);
    return Math.min(86_399_999, Math.max(0, t));
  }
}

const LN_MIN = CREDIT_RANGE_MICROS.map(([min]) => Math.log(min));
const LN_SPAN = CREDIT_RANGE_MICROS.map(([min, max]) => Math.log(max) - Math.log(min));

/** A charge in micro-credits for one operation: log-uniform over its range, never zero. */
export function creditMicros(operation: number, rng: Rng): number {
  const m = Math.round(
    Math.exp((LN_MIN[operation] as number) + rng.float() * (LN_SPAN[operation] as number)),
  );
  return Math.max(1, m);
}
