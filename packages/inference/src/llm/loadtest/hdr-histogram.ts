/**
 * A log-linear histogram in the manner of HdrHistogram (our own, small): values are counted in buckets
 * whose width grows with the value, so every percentile it reports is within a relative error of
 * 10^−digits of the exact one (`digits` significant decimal digits, 1…5), in memory that does not grow with
 * the number of values — a few hundred KB at 3 digits for values up to an hour in microseconds — and two
 * histograms of the same shape merge by adding their counts.
 *
 * Layout: values are recorded as whole multiples of `resolution` (1 µs for latencies in ms by default). With
 * `S = 2^⌈log2(2·10^digits)⌉` sub-buckets, values below `S` have a bucket each (exact); above, each power of two
 * `[2^k, 2^(k+1))` is split into `S/2` buckets of width `2^(k+1−log2 S)`, i.e. at most `1 / (S/2) < 10^−digits`
 * of the values they hold. The bucket array grows to the largest value seen, up to `highest` (larger values
 * are counted in the last bucket and reported as `max`, which is kept exactly, like the minimum, count and sum).
 */

export interface HdrHistogramOptions {
  /** Significant decimal digits of every reported value (default 3: within 0.1 %). */
  digits?: number;
  /** The unit values are rounded to (default 0.001: 1 µs for values in ms). */
  resolution?: number;
  /** The largest value told apart (default 3 600 000: an hour in ms); larger ones count as this. */
  highest?: number;
}

export interface HistogramBin {
  /** The bin's lower bound (inclusive) and upper bound (exclusive), in the recorded unit. */
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

export class HdrHistogram {
  readonly digits: number;
  readonly resolution: number;
  readonly highest: number;
  private readonly subBits: number;
  private readonly sub: number;
  private readonly half: number;
  private readonly maxIndex: number;
  private counts: Float64Array;
  private n = 0;
  private total = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private largest = Number.NEGATIVE_INFINITY;

  constructor(options: HdrHistogramOptions = {}) {
    const digits = options.digits ?? 3;
    if (!Number.isInteger(digits) || digits < 1 || digits > 5) {
      throw new RangeError(`digits must be a whole number from 1 to 5, got ${digits}`);
    }
    const resolution = options.resolution ?? 0.001;
    if (!(resolution > 0) || !Number.isFinite(resolution)) {
      throw new RangeError(`resolution must be a positive number, got ${resolution}`);
    }
    const highest = options.highest ?? 3_600_000;
    if (!(highest >= resolution) || !Number.isFinite(highest)) {
      throw new RangeError(`highest must be a number ≥ resolution, got ${highest}`);
    }
    this.digits = digits;
    this.resolution = resolution;
    this.highest = highest;
    this.subBits = Math.ceil(Math.log2(2 * 10 ** digits));
    this.sub = 2 ** this.subBits;
    this.half = this.sub / 2;
    this.maxIndex = this.indexOf(Math.round(highest / resolution));
    this.counts = new Float64Array(Math.min(this.sub, this.maxIndex + 1));
  }

  /** Values recorded. */
  get count(): number {
    return this.n;
  }

  get min(): number | undefined {
    return this.n === 0 ? undefined : this.lowest;
  }

  get max(): number | undefined {
    return this.n === 0 ? undefined : this.largest;
  }

  get mean(): number | undefined {
    return this.n === 0 ? undefined : this.total / this.n;
  }

  /** The buckets held now (grows with the largest value, never past `highest`): the histogram's memory. */
  get bucketCount(): number {
    return this.counts.length;
  }

  /** Counts `value` (≥ 0; negative values count as 0) `times` times. */
  record(value: number, times = 1): void {
    if (!Number.isFinite(value)) throw new RangeError(`cannot record ${value}`);
    const v = Math.max(0, value);
    const index = Math.min(this.maxIndex, this.indexOf(Math.round(v / this.resolution)));
    this.ensure(index);
    this.counts[index]! += times;
    this.n += times;
    this.total += v * times;
    if (v < this.lowest) this.lowest = v;
    if (v > this.largest) this.largest = v;
  }

  /** Adds `other`'s counts (same digits, resolution and highest). */
  merge(other: HdrHistogram): void {
    if (other.digits !== this.digits || other.resolution !== this.resolution || other.highest !== this.highest) {
      throw new RangeError("cannot merge histograms of different digits, resolution or highest value");
    }
    if (other.n === 0) return;
    this.ensure(other.counts.length - 1);
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.total += other.total;
    this.lowest = Math.min(this.lowest, other.lowest);
    this.largest = Math.max(this.largest, other.largest);
  }

  /**
   * The nearest-rank `p`-th percentile (0 < p ≤ 100): the middle of the bucket holding the value of rank
   * ⌈p/100 · count⌉, kept within [min, max] (the first and last ranks: min and max, exact); undefined when empty.
   */
  percentile(p: number): number | undefined {
    if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
    if (this.n === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    // the extreme ranks are kept exactly
    if (rank >= this.n) return this.largest;
    if (rank === 1) return this.lowest;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        if (i === this.maxIndex) return this.largest;
        const [from, to] = this.bounds(i);
        const middle = to - from <= 1 ? from : (from + to - 1) / 2;
        return Math.min(this.largest, Math.max(this.lowest, middle * this.resolution));
      }
    }
    return this.largest;
  }

  /** The non-empty buckets, in the recorded unit. */
  *bins(): Generator<HistogramBin> {
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i]!;
      if (count === 0) continue;
      const [from, to] = this.bounds(i);
      yield { from: from * this.resolution, to: to * this.resolution, count };
    }
  }

  /**
   * Counts regrouped into `n` bins of equal width on a log scale between the minimum and maximum (for a chart);
   * each bucket's count goes to the bin holding its middle.
   */
  logBins(n: number): HistogramBin[] {
    if (this.n === 0) return [];
    const lo = Math.max(this.lowest, this.resolution);
    const hi = Math.max(this.largest, lo * 1.000001);
    const edges = Array.from({ length: n + 1 }, (_, i) => lo * (hi / lo) ** (i / n));
    edges[0] = Math.min(this.lowest, lo);
    edges[n] = this.largest;
    const counts = new Array<number>(n).fill(0);
    for (const bin of this.bins()) {
      const middle = Math.min(this.largest, Math.max(this.lowest, (bin.from + bin.to) / 2));
      const at = middle <= lo ? 0 : Math.floor((Math.log(middle / lo) / Math.log(hi / lo)) * n);
      counts[Math.min(n - 1, Math.max(0, at))]! += bin.count;
    }
    return counts.map((count, i) => ({ from: edges[i]!, to: edges[i + 1]!, count }));
  }

  /** Index of a value in resolution units. */
  private indexOf(units: number): number {
    if (units < this.sub) return units;
    const shift = Math.floor(Math.log2(units)) - this.subBits + 1;
    // guard against log2 rounding at exact powers of two
    const s = units >= this.sub * 2 ** shift ? shift + 1 : units < this.half * 2 ** shift ? shift - 1 : shift;
    return this.sub + (s - 1) * this.half + (Math.floor(units / 2 ** s) - this.half);
  }

  /** [from, to) of bucket `index`, in resolution units. */
  private bounds(index: number): [number, number] {
    if (index < this.sub) return [index, index + 1];
    const s = Math.floor((index - this.sub) / this.half) + 1;
    const from = (index - this.sub - (s - 1) * this.half + this.half) * 2 ** s;
    return [from, from + 2 ** s];
  }

  private ensure(index: number): void {
    if (index < this.counts.length) return;
    let size = this.counts.length;
    while (size <= index) size *= 2;
    const grown = new Float64Array(Math.min(size, this.maxIndex + 1));
    grown.set(this.counts);
    this.counts = grown;
  }
}
