const TWO_POW_32 = 4_294_967_296;

/** murmur3's finaliser: spreads every input bit over the whole word so nearby seeds give unrelated streams. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85eb_ca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2_ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Hashes integers (each any safe integer, negatives included) into one 32-bit seed.
 * Both 32-bit halves of every part are mixed in so seeds above 2^32 do not collide with their low word.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e37_79b9;
  for (const part of parts) {
    const lo = part >>> 0;
    const hi = Math.floor(part / TWO_POW_32) >>> 0;
    h = fmix32(h ^ lo);
    h = fmix32((h + 0x7f4a_7c15) ^ hi);
  }
  return h;
}

/**
 * xoshiro128**: 128 bits of state and good statistical quality at the cost of a few integer ops,
 * where mulberry32's single 32-bit state would repeat within a large run.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 expands the seed, so the all-zero state (a fixed point of xoshiro) cannot occur.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e37_79b9) >>> 0;
      return fmix32(s);
    };
    // Stored as int32 (not uint32) so V8 keeps the fields as small integers instead of boxed doubles.
    this.a = next() | 0;
    this.b = next() | 0;
    this.c = next() | 0;
    this.d = next() | 0;
  }

  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution, plenty for picking among categories. */
  float(): number {
    return this.u32() / TWO_POW_32;
  }

  /** Uniform in (0, 1]: safe to take the logarithm of. */
  floatOpen(): number {
    return (this.u32() + 1) / TWO_POW_32;
  }

  /** Integer in [0, n). The bias of at most n / 2^32 is irrelevant for sample data. */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Vose's alias method: O(1) weighted picks, which matters for the Zipf draw over up to
 * hundreds of thousands of users where a binary search would cost ~20 steps per row.
 */
export class AliasTable {
  readonly size: number;
  /**
   * [threshold, alias] pairs: a pick touches one cache line, and comparing a raw u32 against a
   * 32-bit threshold skips the float conversion.
   */
  private readonly cells: Uint32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new Error('AliasTable needs at least one weight');
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i] as number;
    if (!(total > 0)) throw new Error('AliasTable weights must sum to a positive number');

    this.size = n;
    const prob = new Float64Array(n);
    const alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      const p = ((weights[i] as number) * n) / total;
      scaled[i] = p;
      if (p < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns] as number;
      const l = large[nl - 1] as number;
      prob[s] = scaled[s] as number;
      alias[s] = l;
      const rest = (scaled[l] as number) + (scaled[s] as number) - 1;
      scaled[l] = rest;
      if (rest < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    // Whatever is left is 1 up to rounding error.
    while (nl > 0) prob[large[--nl] as number] = 1;
    while (ns > 0) prob[small[--ns] as number] = 1;

    this.cells = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const p = prob[i] as number;
      // A full bucket aliases itself, so the 2^-32 chance of drawing exactly the threshold is harmless.
      this.cells[2 * i] = p >= 1 ? 0xffff_ffff : Math.floor(p * TWO_POW_32);
      this.cells[2 * i + 1] = p >= 1 ? i : (alias[i] as number);
    }
  }

  pick(rng: Rng): number {
    const i = rng.below(this.size);
    const c = i << 1;
    return rng.u32() < (this.cells[c] as number) ? i : (this.cells[c + 1] as number);
  }
}
