/**
 * A paired bootstrap confidence interval of a metric's delta (candidate − baseline): each resample draws
 * n rows with replacement (seeded, so a gate gives the same interval every time it runs on the same
 * data), both models are scored on that same draw, and the interval is the percentiles of the deltas.
 * Pairing matters: the two models' errors on a row are correlated, and scoring them on independent
 * resamples would give a much wider, dishonest interval.
 *
 * A draw is passed to the metric as row weights (draw counts), which `@slipway/ml`'s metrics take as
 * `sampleWeight`: the same value as the metric of the duplicated rows, without copying them. Draws on
 * which the metric is undefined (ROC AUC with one class drawn) are left out and counted.
 */
import { Random } from "@slipway/ml";

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  readonly resamples?: number;
  /** Seed of the draws (default 42). */
  readonly seed?: number;
  /** Two-sided confidence level (default 0.95). */
  readonly level?: number;
}

export interface ConfidenceInterval {
  readonly level: number;
  readonly low: number;
  readonly high: number;
  /** Resamples drawn. */
  readonly resamples: number;
  /** Resamples on which both metrics were defined (the interval's sample). */
  readonly valid: number;
  readonly seed: number;
}

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_BOOTSTRAP_SEED = 42;

/** The `q` quantile of sorted values, linear between order statistics (NumPy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const at = q * (n - 1);
  const lo = Math.floor(at);
  const hi = Math.min(n - 1, lo + 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/**
 * The interval of `delta(weights)` over resamples of `rows` rows, or null when fewer than half the
 * resamples gave a finite delta (the metric is too often undefined on these rows to say anything).
 */
export function pairedBootstrap(
  rows: number,
  delta: (weights: Float64Array) => number | null,
  options: BootstrapOptions = {},
): ConfidenceInterval | null {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const level = options.level ?? 0.95;
  const random = new Random(seed);
  const weights = new Float64Array(rows);
  const deltas: number[] = [];
  for (let b = 0; b < resamples; b++) {
    weights.fill(0);
    for (let i = 0; i < rows; i++) weights[random.int(rows)]! += 1;
    const d = delta(weights);
    if (d !== null && Number.isFinite(d)) deltas.push(d);
  }
  if (deltas.length === 0 || deltas.length * 2 < resamples) return null;
  const sorted = Float64Array.from(deltas).sort();
  const tail = (1 - level) / 2;
  return {
    level,
    low: quantile(sorted, tail),
    high: quantile(sorted, 1 - tail),
    resamples,
    valid: deltas.length,
    seed,
  };
}
