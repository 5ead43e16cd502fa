/**
 * Seeded random streams that reproduce numpy's legacy `RandomState` bit for bit: MT19937 seeded with the
 * classic `init_genrand`, 53-bit doubles (`random_sample`), the polar Gaussian with one cached value (`randn`)
 * and masked-rejection integers (`randint(n)`). See /work/shared/notes/numpy-legacy-random.md.
 *
 * `substream(seed, name)` derives independent named streams ("train", "test", "init", "eval:L=37", ...) from
 * one experiment seed, so adding a consumer never shifts the draws of another.
 */

/** A source of numpy-compatible random draws. Each call advances the stream. */
export interface RandomStream {
  /** Next raw 32-bit MT19937 output, in [0, 2^32). */
  u32(): number;
  /** Uniform double in [0, 1) from two 32-bit draws (numpy `random_sample`). */
  double(): number;
  /** Standard normal (numpy legacy `randn`: polar method, second value cached). */
  gaussian(): number;
  /** Unbiased uniform integer in [0, n) (numpy legacy `randint(n)`: masked rejection on u32). */
  int(n: number): number;
  /** The stream's whole state (a copy), from which `restoreStream` continues it draw for draw. */
  snapshot(): StreamState;
}

/** An MT19937 stream's state: the 624 state words, the next word's index and the cached Gaussian, if any. */
export interface StreamState {
  readonly mt: readonly number[];
  readonly position: number;
  readonly cachedGaussian: number | null;
}

const STATE_SIZE = 624;
const SHIFT_SIZE = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;
const MAX_U32 = 0xffffffff;

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_U32) {
    throw new Error(`random seed must be an integer in [0, 2^32 - 1], got ${seed}`);
  }
}

/** The state vector after numpy's `seed(seed)` (classic `init_genrand`). */
function initGenrand(seed: number): Uint32Array {
  const mt = new Uint32Array(STATE_SIZE);
  mt[0] = seed >>> 0;
  for (let i = 1; i < STATE_SIZE; i++) {
    const prev = mt[i - 1];
    // 1812433253 * (prev ^ (prev >>> 30)) + i, modulo 2^32 (Math.imul keeps the low 32 bits exactly).
    mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
  }
  return mt;
}

/** Regenerates all 624 words of the state in place (the MT19937 "twist"). */
function twist(mt: Uint32Array): void {
  for (let i = 0; i < STATE_SIZE; i++) {
    const y = ((mt[i] & UPPER_MASK) | (mt[(i + 1) % STATE_SIZE] & LOWER_MASK)) >>> 0;
    const mag = (y & 1) === 1 ? MATRIX_A : 0;
    mt[i] = (mt[(i + SHIFT_SIZE) % STATE_SIZE] ^ (y >>> 1) ^ mag) >>> 0;
  }
}

/** The MT19937 tempering transform applied to each output word. */
function temper(word: number): number {
  let y = word;
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  y ^= y >>> 18;
  return y >>> 0;
}

/** Smallest all-ones bit mask covering `max` (e.g. 5 -> 7, 8 -> 15). */
function coveringMask(max: number): number {
  let mask = max >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

class Mt19937Stream implements RandomStream {
  private readonly mt: Uint32Array;
  private position = STATE_SIZE;
  private cachedGaussian: number | null = null;

  constructor(mt: Uint32Array) {
    this.mt = mt;
  }

  snapshot(): StreamState {
    return { mt: [...this.mt], position: this.position, cachedGaussian: this.cachedGaussian };
  }

  restore(state: StreamState): this {
    this.position = state.position;
    this.cachedGaussian = state.cachedGaussian;
    return this;
  }

  u32(): number {
    if (this.position >= STATE_SIZE) {
      twist(this.mt);
      this.position = 0;
    }
    return temper(this.mt[this.position++]);
  }

  double(): number {
    const a = this.u32() >>> 5; // 27 bits
    const b = this.u32() >>> 6; // 26 bits
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  gaussian(): number {
    if (this.cachedGaussian !== null) {
      const cached = this.cachedGaussian;
      this.cachedGaussian = null;
      return cached;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.double() - 1;
      x2 = 2 * this.double() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt(-2 * Math.log(r2) / r2);
    this.cachedGaussian = f * x1;
    return f * x2;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > MAX_U32 + 1) {
      throw new Error(`int(n) needs an integer n in [1, 2^32], got ${n}`);
    }
    const max = n - 1;
    if (max === 0) return 0; // numpy draws nothing for a one-value range
    if (max === MAX_U32) return this.u32();
    const mask = coveringMask(max);
    let value: number;
    do {
      value = (this.u32() & mask) >>> 0;
    } while (value > max);
    return value;
  }
}

/** A fresh stream equal to numpy's `np.random.seed(seed)` for an integer seed in [0, 2^32 - 1]. */
export function mt19937(seed: number): RandomStream {
  checkSeed(seed);
  return new Mt19937Stream(initGenrand(seed));
}

/**
 * A stream that continues from `state` (a `snapshot()`, possibly through JSON) exactly as the stream it was taken
 * from would; throws a one-line error on a state that is not one.
 */
export function restoreStream(state: StreamState): RandomStream {
  const ok = Array.isArray(state?.mt) && state.mt.length === STATE_SIZE &&
    state.mt.every((w) => Number.isInteger(w) && w >= 0 && w <= MAX_U32) &&
    Number.isInteger(state.position) && state.position >= 0 && state.position <= STATE_SIZE &&
    (state.cachedGaussian === null || Number.isFinite(state.cachedGaussian));
  if (!ok) throw new Error("not a random stream state (624 words in [0, 2^32), a position in 0..624, a cached value)");
  return new Mt19937Stream(Uint32Array.from(state.mt)).restore(state);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1aByte(hash: number, byte: number): number {
  return Math.imul((hash ^ byte) >>> 0, FNV_PRIME) >>> 0;
}

/** murmur3's 32-bit finalizer: spreads every input bit over the whole word. */
function fmix32(word: number): number {
  let h = word >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 32-bit seed of the named stream: 32-bit FNV-1a over the 4 little-endian bytes of `seed` followed by the
 * UTF-8 bytes of `name`, then murmur3's `fmix32` finalizer. Exported so the derivation can be documented and
 * pinned by a test.
 */
export function substreamSeed(seed: number, name: string): number {
  checkSeed(seed);
  let hash = FNV_OFFSET;
  for (let shift = 0; shift < 32; shift += 8) hash = fnv1aByte(hash, (seed >>> shift) & 0xff);
  for (const byte of new TextEncoder().encode(name)) hash = fnv1aByte(hash, byte);
  return fmix32(hash);
}

/**
 * An independent stream for one consumer ("train", "test", "init", "eval:L=37", ...) of an experiment seed:
 * `mt19937(substreamSeed(seed, name))`. Same (seed, name) gives the same stream; any other name another one.
 */
export function substream(seed: number, name: string): RandomStream {
  return mt19937(substreamSeed(seed, name));
}
