/**
 * The summary of a stream of numbers inside a profile — a numeric column's values, or the lengths of a
 * text column's values: exact min, max, mean and standard deviation (Welford's update; merged with Chan
 * et al.'s pairwise formula), quantiles from a KLL sketch (`sketch.ts`), the sketch itself and a histogram
 * (`histogram.ts`). Everything merges without the data.
 */
import { Histogram, histogramEdges, type HistogramEdgeOptions, type HistogramJSON } from "./histogram.js";
import { checkNumberOrNull, checkObject, jsonNumber } from "./json-check.js";
import { QuantileSketch, type QuantileSketchJSON, type QuantileSketchOptions } from "./sketch.js";

/** The quantiles every summary reports, by name. */
export const SUMMARY_QUANTILES = { p1: 0.01, p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;

export type QuantileName = keyof typeof SUMMARY_QUANTILES;

/** JSON has no NaN: statistics of no values are null. */
export interface NumericSummary {
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (n − 1 in the denominator, as pandas); 0 for one value. */
  std: number | null;
  quantiles: Record<QuantileName, number | null>;
  sketch: QuantileSketchJSON;
  histogram: HistogramJSON;
}

/** Collects numbers: add them all, then `summary()` (edges from the numbers' own sketch unless given). */
export class NumericAccumulator {
  readonly sketch: QuantileSketch;
  private n = 0;
  private mean = 0;
  private m2 = 0;

  constructor(options: QuantileSketchOptions = {}) {
    this.sketch = new QuantileSketch(options);
  }

  add(value: number): void {
    this.sketch.add(value);
    this.n++;
    const delta = value - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (value - this.mean);
  }

  /**
   * The summary; `fill` adds the numbers again to the histogram (the caller keeps them or re-reads the
   * column), over `edges` (a reference's) or edges chosen from this sketch with `edgeOptions`.
   */
  summary(
    fill: (histogram: Histogram) => void,
    edges: readonly number[] | undefined,
    edgeOptions: HistogramEdgeOptions,
  ): NumericSummary {
    const chosen = edges ?? histogramEdges(this.sketch, edgeOptions);
    const histogram = new Histogram(chosen.length === 0 ? [0] : chosen);
    fill(histogram);
    return summarize(this.sketch, histogram, this.n === 0 ? NaN : this.mean, this.m2);
  }
}

function summarize(sketch: QuantileSketch, histogram: Histogram, mean: number, m2: number): NumericSummary {
  const n = sketch.count;
  const quantiles = Object.fromEntries(
    Object.entries(SUMMARY_QUANTILES).map(([name, q]) => [name, jsonNumber(sketch.quantile(q))]),
  ) as Record<QuantileName, number | null>;
  return {
    min: jsonNumber(sketch.min),
    max: jsonNumber(sketch.max),
    mean: jsonNumber(mean),
    std: n === 0 ? null : n === 1 ? 0 : Math.sqrt(Math.max(0, m2) / (n - 1)),
    quantiles,
    sketch: sketch.toJSON(),
    histogram: histogram.toJSON(),
  };
}

/**
 * Two summaries as one. Histograms over the same edges add up; over different edges (profiles made
 * without a common reference), the histogram is re-estimated over `a`'s edges from the merged sketch and
 * marked `estimated`.
 */
export function mergeNumericSummaries(a: NumericSummary, b: NumericSummary, path: string): NumericSummary {
  const sa = QuantileSketch.fromJSON(a.sketch, `${path}.sketch`);
  const sb = QuantileSketch.fromJSON(b.sketch, `${path}.sketch`);
  const na = sa.count;
  const nb = sb.count;
  const n = na + nb;
  const meanA = a.mean ?? 0;
  const meanB = b.mean ?? 0;
  const m2 = (na > 1 ? (a.std ?? 0) ** 2 * (na - 1) : 0) + (nb > 1 ? (b.std ?? 0) ** 2 * (nb - 1) : 0);
  const delta = meanB - meanA;
  const mean = n === 0 ? NaN : meanA + (delta * nb) / n;
  const mergedM2 = n === 0 ? 0 : m2 + (delta * delta * na * nb) / n;
  const sketch = sa.merge(sb);
  const ha = Histogram.fromJSON(a.histogram, `${path}.histogram`);
  const hb = Histogram.fromJSON(b.histogram, `${path}.histogram`);
  let histogram: Histogram;
  if (ha.sameEdges(hb)) histogram = ha.merge(hb);
  else if (na === 0) histogram = hb;
  else if (nb === 0) histogram = ha;
  else histogram = Histogram.fromSketch(ha.edges, sketch);
  return summarize(sketch, histogram, mean, mergedM2);
}

/** Checks a summary read from JSON (the sketch and histogram completely). */
export function checkNumericSummary(json: unknown, path: string): NumericSummary {
  const o = checkObject(json, path);
  for (const key of ["min", "max", "mean", "std"]) checkNumberOrNull(o[key], `${path}.${key}`);
  const quantiles = checkObject(o.quantiles, `${path}.quantiles`);
  for (const name of Object.keys(SUMMARY_QUANTILES)) checkNumberOrNull(quantiles[name], `${path}.quantiles.${name}`);
  QuantileSketch.fromJSON(o.sketch, `${path}.sketch`);
  Histogram.fromJSON(o.histogram, `${path}.histogram`);
  return o as unknown as NumericSummary;
}
