/**
 * Mergeable histograms over fixed bin edges. The edges are chosen once, from a reference (a quantile
 * sketch of the training data, `histogramEdges`), and every later window is counted over the same
 * edges, so two histograms merge by adding counts and a window compares to the reference bin by bin
 * (PSI, chi-squared) without re-reading anything.
 *
 * Edges e0 < e1 < … < eB (strictly increasing) make B bins [e_i, e_{i+1}), the last one closed
 * [e_{B−1}, e_B]; values below e0 go to `underflow`, above eB to `overflow` (in monitoring, values outside
 * the reference's range). A single edge makes one bin holding exactly that value.
 *
 * Edge choice (`histogramEdges`): by default `quantile` (equal-frequency) edges — the reference's min,
 * its quantiles at 1/B, …, (B−1)/B and its max, repeated values dropped — which give every bin a fair share
 * of the reference, what drift statistics need. When the reference holds at most B distinct values (small
 * integers, ratings, flags), the edges are the midpoints between them (plus min and max), one bin per
 * value. `uniform` gives B equal-width bins between min and max.
 */
import { MlError } from "../core/errors.js";
import { checkArray, checkBoolean, checkCount, checkLiteral, checkNumber, checkObject, fail } from "./json-check.js";
import type { QuantileSketch } from "./sketch.js";

export const DEFAULT_HISTOGRAM_BINS = 10;

export interface HistogramEdgeOptions {
  /** Number of bins (default 10). */
  bins?: number;
  /** `quantile` (default): equal-frequency edges; `uniform`: equal-width edges. */
  method?: "quantile" | "uniform";
}

/** The JSON form of a histogram. */
export interface HistogramJSON {
  type: "histogram";
  version: 1;
  edges: number[];
  counts: number[];
  underflow: number;
  overflow: number;
  /**
   * Present and true when the counts were estimated from a quantile sketch (after merging two
   * histograms whose edges differed) rather than counted.
   */
  estimated?: boolean;
}

function checkEdges(edges: readonly number[], path: string): void {
  if (edges.length === 0) fail(path, "a non-empty array of numbers", edges);
  edges.forEach((edge, i) => {
    checkNumber(edge, `${path}[${i}]`);
    if (i > 0 && !(edge > edges[i - 1]!)) {
      throw new MlError(`${path}: edges must be strictly increasing, but edge ${i} (${edge}) follows ${edges[i - 1]}`);
    }
  });
}

/** Bin edges for a reference summarised by a sketch (see the file comment); empty when the sketch is. */
export function histogramEdges(reference: QuantileSketch, options: HistogramEdgeOptions = {}): number[] {
  const bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
  if (!Number.isInteger(bins) || bins < 1) throw new MlError(`bins: must be a positive integer, got ${bins}`);
  if (reference.count === 0) return [];
  const min = reference.min;
  const max = reference.max;
  if (min === max) return [min];
  if (options.method === "uniform") {
    const edges = [min];
    for (let i = 1; i < bins; i++) edges.push(min + ((max - min) * i) / bins);
    edges.push(max);
    return dedupe(edges);
  }
  const distinct = reference.exact ? distinctValues(reference) : undefined; // below k values
  if (distinct !== undefined && distinct.length <= bins) {
    const edges = [min];
    for (let i = 1; i < distinct.length; i++) edges.push((distinct[i - 1]! + distinct[i]!) / 2);
    edges.push(max);
    return dedupe(edges);
  }
  const edges = [min];
  for (let i = 1; i < bins; i++) edges.push(reference.quantile(i / bins));
  edges.push(max);
  return dedupe(edges);
}

/** The distinct values of an exact sketch (one that still holds every value, fewer than k). */
function distinctValues(sketch: QuantileSketch): number[] {
  return [...new Set(sketch.toJSON().levels[0])].sort((a, b) => a - b);
}

function dedupe(edges: number[]): number[] {
  return edges.filter((edge, i) => i === 0 || edge > edges[i - 1]!);
}

export class Histogram {
  readonly edges: readonly number[];
  private readonly binCounts: number[];
  private under = 0;
  private over = 0;
  private estimatedCounts = false;

  /** A histogram over `edges` (strictly increasing, at least one). */
  constructor(edges: readonly number[]) {
    checkEdges(edges, "edges");
    this.edges = edges.slice();
    this.binCounts = new Array<number>(Math.max(1, edges.length - 1)).fill(0);
  }

  /** Counts per bin (a copy). */
  get counts(): number[] {
    return this.binCounts.slice();
  }

  get underflow(): number {
    return this.under;
  }

  get overflow(): number {
    return this.over;
  }

  /** All values counted, underflow and overflow included. */
  get total(): number {
    return this.binCounts.reduce((a, b) => a + b, this.under + this.over);
  }

  /** Whether the counts were estimated from a sketch rather than counted (see `HistogramJSON`). */
  get estimated(): boolean {
    return this.estimatedCounts;
  }

  /** Counts one value (finite; anything else is the caller's to skip). */
  add(value: number, count = 1): void {
    const edges = this.edges;
    const last = edges.length - 1;
    if (value < edges[0]!) this.under += count;
    else if (value > edges[last]!) this.over += count;
    else {
      let low = 0;
      let high = last + 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (edges[mid]! <= value) low = mid + 1;
        else high = mid;
      }
      this.binCounts[Math.min(low - 1, this.binCounts.length - 1)]! += count;
    }
  }

  /** Whether `other` has exactly these edges (only then can the two merge). */
  sameEdges(other: Histogram | readonly number[]): boolean {
    const edges = other instanceof Histogram ? other.edges : other;
    return edges.length === this.edges.length && edges.every((edge, i) => edge === this.edges[i]);
  }

  /** Adds the counts of `other`, which must have the same edges. */
  merge(other: Histogram): this {
    if (!this.sameEdges(other)) {
      throw new MlError(
        `cannot merge histograms with different edges ([${this.edges.join(", ")}] and [${other.edges.join(", ")}])`,
      );
    }
    other.binCounts.forEach((count, i) => (this.binCounts[i]! += count));
    this.under += other.under;
    this.over += other.over;
    this.estimatedCounts ||= other.estimatedCounts;
    return this;
  }

  /** A histogram over `edges` whose counts are estimated from a sketch of the data (see `HistogramJSON`). */
  static fromSketch(edges: readonly number[], sketch: QuantileSketch): Histogram {
    const histogram = new Histogram(edges);
    const n = sketch.count;
    if (n === 0) return histogram;
    const below = (x: number): number => Math.round(n * sketch.fractionBelow(x));
    const atMost = (x: number): number => Math.round(n * sketch.cdf(x));
    const last = edges.length - 1;
    histogram.under = below(edges[0]!);
    histogram.over = n - atMost(edges[last]!);
    for (let i = 0; i < histogram.binCounts.length; i++) {
      const start = below(edges[i]!);
      const end = i === histogram.binCounts.length - 1 ? atMost(edges[last]!) : below(edges[i + 1]!);
      histogram.binCounts[i] = Math.max(0, end - start);
    }
    histogram.estimatedCounts = true;
    return histogram;
  }

  clone(): Histogram {
    return Histogram.fromJSON(this.toJSON());
  }

  toJSON(): HistogramJSON {
    return {
      type: "histogram",
      version: 1,
      edges: this.edges.slice(),
      counts: this.binCounts.slice(),
      underflow: this.under,
      overflow: this.over,
      ...(this.estimatedCounts ? { estimated: true } : {}),
    };
  }

  static fromJSON(json: unknown, path = "histogram"): Histogram {
    const o = checkObject(json, path);
    checkLiteral(o.type, ["histogram"], `${path}.type`);
    checkLiteral(o.version, [1], `${path}.version`);
    const edges = checkArray(o.edges, `${path}.edges`).map((e, i) => checkNumber(e, `${path}.edges[${i}]`));
    checkEdges(edges, `${path}.edges`);
    const histogram = new Histogram(edges);
    const counts = checkArray(o.counts, `${path}.counts`);
    if (counts.length !== histogram.binCounts.length) {
      throw new MlError(
        `${path}.counts: must have ${histogram.binCounts.length} counts for ${edges.length} edges, got ${counts.length}`,
      );
    }
    counts.forEach((c, i) => (histogram.binCounts[i] = checkCount(c, `${path}.counts[${i}]`)));
    histogram.under = checkCount(o.underflow, `${path}.underflow`);
    histogram.over = checkCount(o.overflow, `${path}.overflow`);
    if (o.estimated !== undefined) histogram.estimatedCounts = checkBoolean(o.estimated, `${path}.estimated`);
    return histogram;
  }
}
