/**
 * Sorting and moment helpers shared by the two-sample statistics.
 *
 * The drift engine sorts a column once with {@link sortedFinite} and hands the sorted copy to every
 * `…FromSorted` function (KS, Wasserstein, energy distance, Cramér–von Mises, Anderson–Darling).
 */
import { MlError } from "../core/errors.js";

/**
 * An ascending `Float64Array` copy of `values` without its NaN entries.
 *
 * Despite the name only NaN is dropped: `±Infinity` are kept and sort to the ends, as `numpy.sort`
 * puts them (SciPy's two-sample tests accept infinite values; missing values are NaN). `-0` sorts
 * before `+0`, which changes nothing because every statistic compares values with `===`.
 * Sorted by {@link sortFloat64}.
 */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let kept = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) kept++;
  const out = new Float64Array(kept);
  if (kept === n) {
    if (values instanceof Float64Array) out.set(values);
    else for (let i = 0; i < n; i++) out[i] = values[i] as number;
  } else {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      if (!Number.isNaN(v)) out[k++] = v;
    }
  }
  return sortFloat64(out);
}

/** Below this length the built-in sort wins (the radix sort's four 65,536-entry histograms cost more). */
const RADIX_MIN = 4096;

/**
 * Sorts `values` in place, ascending, exactly as `Float64Array.prototype.sort` orders them (−0 before
 * +0, ±Infinity at the ends; NaN must not be present), and returns it. Large arrays go through an LSD
 * radix sort on the IEEE-754 bits in four 16-bit passes (a pass is skipped when every key shares its
 * digit): 2–2.5× faster than V8's sort on 1,000,000 values (42 ms against 100 ms here), which matters
 * because sorting is most of a drift report's work.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN) return values.sort();
  const keys = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // order-preserving keys: set the sign bit of positives, flip every bit of negatives
  for (let i = 0; i < n; i++) {
    const hi = keys[2 * i + 1]!;
    if (hi & 0x80000000) {
      keys[2 * i + 1] = ~hi >>> 0;
      keys[2 * i] = ~keys[2 * i]! >>> 0;
    } else keys[2 * i + 1] = (hi | 0x80000000) >>> 0;
  }
  const counts = new Uint32Array(65536 * 4);
  for (let i = 0; i < n; i++) {
    const lo = keys[2 * i]!;
    const hi = keys[2 * i + 1]!;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let src: Uint32Array = keys;
  let dst: Uint32Array = new Uint32Array(n * 2);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    let sum = 0;
    let trivial = false;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d]!;
      if (c === n) {
        trivial = true;
        break;
      }
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    for (let i = 0; i < n; i++) {
      const pos = counts[base + ((src[2 * i + word]! >>> shift) & 0xffff)]!++;
      dst[2 * pos] = src[2 * i]!;
      dst[2 * pos + 1] = src[2 * i + 1]!;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!;
    if (hi & 0x80000000) src[2 * i + 1] = hi & 0x7fffffff;
    else {
      src[2 * i + 1] = ~hi >>> 0;
      src[2 * i] = ~src[2 * i]! >>> 0;
    }
  }
  if (src !== keys) keys.set(src);
  return values;
}

/**
 * Ascending copy of `values` that must not contain NaN (the entry points of the raw-sample statistics
 * reject missing values instead of silently dropping them; call {@link sortedFinite} first to drop them).
 * @internal
 */
export function sortedNoNaN(values: ArrayLike<number>, what: string): Float64Array {
  const sorted = sortedFinite(values);
  if (sorted.length !== values.length) {
    throw new MlError(`${what} contains NaN; drop missing values first (sortedFinite drops them)`);
  }
  return sorted;
}

/**
 * Sum of `terms` accumulated in blocks of 256 (error ≈ (256 + n/256)·ε instead of n·ε for plain
 * summation), the kind of accuracy `numpy.sum`'s pairwise summation gives.
 */
class BlockSum {
  private total = 0;
  private block = 0;
  private count = 0;

  add(value: number): void {
    this.block += value;
    if (++this.count === 256) {
      this.total += this.block;
      this.block = 0;
      this.count = 0;
    }
  }

  value(): number {
    return this.total + this.block;
  }
}

/**
 * Population standard deviation (`numpy.std(values)`, ddof = 0): two passes, mean first.
 * NaN propagates (as in NumPy); an empty sample throws.
 */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new MlError("populationStd: the sample is empty");
  const sum = new BlockSum();
  for (let i = 0; i < n; i++) sum.add(values[i] as number);
  const mean = sum.value() / n;
  const squares = new BlockSum();
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    squares.add(d * d);
  }
  return Math.sqrt(squares.value() / n);
}
