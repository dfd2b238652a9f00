/**
 * A mergeable quantile sketch: KLL (Karnin, Lang, Liberty, "Optimal Quantile Approximation in Streams",
 * FOCS 2016), with a seeded coin, so the same input in the same order gives the same sketch everywhere.
 *
 * Why KLL: its error is on ranks and holds for any input order and any distribution (t-digest's error has
 * no such bound and depends on insertion order and the shape of the tails); its memory is bounded by the
 * parameter k alone, whatever the stream length; and two sketches merge into one with the same guarantee,
 * so monitoring windows summarised separately combine without reading the data again.
 *
 * How: values go to level 0. Level h holds items of weight 2^h and has capacity
 * max(8, ⌈k·(2/3)^(H−1−h)⌉), H the number of levels. When the sketch holds as many items as all
 * capacities together, the lowest full level is compacted: sorted, and every other item (from a random
 * offset, 0 or 1) moves up a level with twice the weight; an odd item out stays. Each compaction shifts
 * any rank by at most the weight of one pair, with zero mean, so errors cancel instead of adding up.
 *
 * Guarantee (k = 200 by default): retained items < 3k + 9·H (H ≈ log2(n/k) + 2; ~600 items at
 * n = 10^6, ~11 KB as JSON); below k values the sketch is exact. The rank error of a single query —
 * |cdf(x) − F(x)|, or |F(quantile(q)) − q| with F the exact CDF of the data — is at most
 * {@link sketchRankError}(k) = 2.296 / k^0.9723 (1.33% at k = 200) with probability at least 99%. That
 * formula is the published empirical 99% bound of Apache DataSketches for KLL with the same capacities
 * (c = 2/3, minimum width 8); the tests measure this implementation against it at 10^6 values, for single
 * sketches and for merged ones (merging keeps the bound: it is a sketch of the union).
 *
 * Queries: `quantile(q)` is the smallest retained value whose cumulative weight reaches q·n (the
 * "inverted CDF" definition: for [1, 2, 3, 4], quantile(0.5) is 2); quantile(0) is the exact min and
 * quantile(1) the exact max. `cdf(x)` is the fraction of the weight at or below x.
 */
import { MlError } from "../core/errors.js";
import {
  checkArray,
  checkCount,
  checkLiteral,
  checkNumber,
  checkNumberOrNull,
  checkObject,
  fail,
  jsonNumber,
} from "./json-check.js";

export const DEFAULT_SKETCH_K = 200;
const MIN_K = 8;
const MAX_K = 65_536;
const MIN_WIDTH = 8;
const DECAY = 2 / 3;

/** The rank error of one query that a sketch with parameter k stays within with probability ≥ 99%. */
export function sketchRankError(k: number = DEFAULT_SKETCH_K): number {
  return 2.296 / Math.pow(k, 0.9723);
}

export interface QuantileSketchOptions {
  /** Accuracy and size parameter, 8…65536 (default 200: 1.33% rank error, ~600 items at 10^6 values). */
  k?: number;
  /** Seed of the compaction coin (default 1). */
  seed?: number;
}

/** The JSON form of a sketch (`toJSON`, `QuantileSketch.fromJSON`). NaN min/max of an empty sketch are null. */
export interface QuantileSketchJSON {
  type: "kll";
  version: 1;
  k: number;
  n: number;
  min: number | null;
  max: number | null;
  /** Level h holds items of weight 2^h. */
  levels: number[][];
  /** State of the compaction coin. */
  rng: number;
}

function checkK(k: unknown, path: string): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < MIN_K || k > MAX_K) {
    fail(path, `an integer between ${MIN_K} and ${MAX_K}`, k);
  }
  return k;
}

export class QuantileSketch {
  private kValue: number;
  private readonly levels: number[][] = [[]];
  private capacities: number[] = [];
  private limit = 0;
  private size = 0;
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private rng: number;
  private view: { values: Float64Array; cumulative: Float64Array } | undefined;

  constructor(options: QuantileSketchOptions = {}) {
    this.kValue = checkK(options.k ?? DEFAULT_SKETCH_K, "k");
    this.rng = (options.seed ?? 1) >>> 0;
    this.updateCapacities();
  }

  /** A sketch of `values`. */
  static of(values: Iterable<number>, options?: QuantileSketchOptions): QuantileSketch {
    const sketch = new QuantileSketch(options);
    for (const value of values) sketch.add(value);
    return sketch;
  }

  get k(): number {
    return this.kValue;
  }

  /** Number of values added (merged sketches included). */
  get count(): number {
    return this.n;
  }

  /** Smallest value added, NaN when empty. */
  get min(): number {
    return this.n === 0 ? NaN : this.lo;
  }

  /** Largest value added, NaN when empty. */
  get max(): number {
    return this.n === 0 ? NaN : this.hi;
  }

  /** Number of items the sketch holds (its memory, in numbers). */
  get retained(): number {
    return this.size;
  }

  /** Whether the sketch still holds every value (no compaction yet): its answers are exact. */
  get exact(): boolean {
    return this.levels.length === 1;
  }

  /** Adds one finite number. */
  add(value: number): void {
    if (!Number.isFinite(value)) {
      throw new MlError(`quantile sketch: values must be finite numbers, got ${String(value)}`);
    }
    this.levels[0]!.push(value);
    this.n++;
    this.size++;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    this.view = undefined;
    if (this.size >= this.limit) this.compress();
  }

  /** Adds everything `other` summarises (`other` is unchanged); the smaller k of the two is kept. */
  merge(other: QuantileSketch): this {
    if (other.n === 0) return this;
    const levels = other.levels.map((level) => level.slice());
    while (this.levels.length < levels.length) this.levels.push([]);
    levels.forEach((level, h) => {
      const mine = this.levels[h]!;
      for (const value of level) mine.push(value);
    });
    this.n += other.n;
    this.size += other.size;
    this.lo = Math.min(this.lo, other.lo);
    this.hi = Math.max(this.hi, other.hi);
    this.kValue = Math.min(this.kValue, other.kValue);
    this.view = undefined;
    this.updateCapacities();
    this.compress();
    return this;
  }

  /** The value at quantile q ∈ [0, 1] (see the file comment); NaN when empty. */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new MlError(`quantile: q must be between 0 and 1, got ${String(q)}`);
    if (this.n === 0) return NaN;
    if (q === 0) return this.lo;
    if (q === 1) return this.hi;
    const { values, cumulative } = this.sortedView();
    const target = q * this.n;
    let low = 0;
    let high = values.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! >= target) high = mid;
      else low = mid + 1;
    }
    return values[low]!;
  }

  /** The values at several quantiles. */
  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /** The estimated fraction of values ≤ x; NaN when empty. */
  cdf(x: number): number {
    if (Number.isNaN(x)) throw new MlError("cdf: x must be a number, got NaN");
    if (this.n === 0) return NaN;
    if (x < this.lo) return 0;
    if (x >= this.hi) return 1;
    const { values, cumulative } = this.sortedView();
    let low = 0;
    let high = values.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (values[mid]! <= x) low = mid + 1;
      else high = mid;
    }
    return low === 0 ? 0 : cumulative[low - 1]! / this.n;
  }

  /** The estimated fraction of values < x (strictly); NaN when empty. */
  fractionBelow(x: number): number {
    if (Number.isNaN(x)) throw new MlError("fractionBelow: x must be a number, got NaN");
    if (this.n === 0) return NaN;
    if (x <= this.lo) return 0;
    if (x > this.hi) return 1;
    const { values, cumulative } = this.sortedView();
    let low = 0;
    let high = values.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (values[mid]! < x) low = mid + 1;
      else high = mid;
    }
    return low === 0 ? 0 : cumulative[low - 1]! / this.n;
  }

  /** A copy. */
  clone(): QuantileSketch {
    return QuantileSketch.fromJSON(this.toJSON());
  }

  toJSON(): QuantileSketchJSON {
    return {
      type: "kll",
      version: 1,
      k: this.kValue,
      n: this.n,
      min: this.n === 0 ? null : jsonNumber(this.lo),
      max: this.n === 0 ? null : jsonNumber(this.hi),
      levels: this.levels.map((level) => level.slice()),
      rng: this.rng,
    };
  }

  /** Reads a sketch back, checking every field and that the weights add up to n. */
  static fromJSON(json: unknown, path = "sketch"): QuantileSketch {
    const o = checkObject(json, path);
    checkLiteral(o.type, ["kll"], `${path}.type`);
    checkLiteral(o.version, [1], `${path}.version`);
    const sketch = new QuantileSketch({ k: checkK(o.k, `${path}.k`) });
    const n = checkCount(o.n, `${path}.n`);
    const levels = checkArray(o.levels, `${path}.levels`);
    if (levels.length === 0) fail(`${path}.levels`, "a non-empty array", levels);
    sketch.levels.length = 0;
    let weight = 0;
    levels.forEach((level, h) => {
      const items = checkArray(level, `${path}.levels[${h}]`);
      sketch.levels.push(items.map((v, i) => checkNumber(v, `${path}.levels[${h}][${i}]`)));
      weight += items.length * 2 ** h;
    });
    if (weight !== n) throw new MlError(`${path}: the levels hold a weight of ${weight}, but n is ${n}`);
    sketch.n = n;
    sketch.size = sketch.levels.reduce((s, level) => s + level.length, 0);
    const min = checkNumberOrNull(o.min, `${path}.min`);
    const max = checkNumberOrNull(o.max, `${path}.max`);
    if (n > 0 && (Number.isNaN(min) || Number.isNaN(max) || min > max)) {
      throw new MlError(`${path}: min and max must be numbers with min ≤ max when n > 0`);
    }
    sketch.lo = n === 0 ? Infinity : min;
    sketch.hi = n === 0 ? -Infinity : max;
    const rng = o.rng;
    if (typeof rng !== "number" || !Number.isInteger(rng) || rng < 0 || rng > 0xffffffff) {
      fail(`${path}.rng`, "an unsigned 32-bit integer", rng);
    }
    sketch.rng = rng;
    sketch.updateCapacities();
    return sketch;
  }

  // -------------------------------------------------------------------------------------------

  private updateCapacities(): void {
    const height = this.levels.length;
    const capacities = new Array<number>(height);
    let width = this.kValue;
    for (let depth = 0; depth < height; depth++) {
      capacities[height - 1 - depth] = Math.max(MIN_WIDTH, Math.ceil(width));
      width *= DECAY;
    }
    this.capacities = capacities;
    this.limit = capacities.reduce((a, b) => a + b, 0);
  }

  private compress(): void {
    while (this.size >= this.limit) {
      let h = 0;
      while (this.levels[h]!.length < this.capacities[h]!) h++;
      this.compact(h);
    }
  }

  /** A fair coin from a counter-based generator (splitmix32): the state is one number. */
  private coin(): number {
    this.rng = (this.rng + 0x9e3779b9) >>> 0;
    let z = this.rng;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 31;
  }

  private compact(h: number): void {
    if (h + 1 === this.levels.length) {
      this.levels.push([]);
      this.updateCapacities();
    }
    const level = this.levels[h]!;
    const sorted = Float64Array.from(level).sort();
    const next = this.levels[h + 1]!;
    const odd = sorted.length % 2;
    for (let i = odd + this.coin(); i < sorted.length; i += 2) next.push(sorted[i]!);
    level.length = 0;
    if (odd === 1) level.push(sorted[0]!);
    this.size -= (sorted.length - odd) / 2;
  }

  private sortedView(): { values: Float64Array; cumulative: Float64Array } {
    if (this.view !== undefined) return this.view;
    const items: [number, number][] = [];
    this.levels.forEach((level, h) => {
      const weight = 2 ** h;
      for (const value of level) items.push([value, weight]);
    });
    items.sort((a, b) => a[0] - b[0]);
    const values = new Float64Array(items.length);
    const cumulative = new Float64Array(items.length);
    let sum = 0;
    items.forEach(([value, weight], i) => {
      values[i] = value;
      sum += weight;
      cumulative[i] = sum;
    });
    this.view = { values, cumulative };
    return this.view;
  }
}
