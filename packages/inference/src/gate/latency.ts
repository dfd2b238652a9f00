/**
 * Single-row prediction latency of served models, in process: one-row requests through
 * `ServedModel.predict` (the signature check, the batcher and the predictor, as the model server runs
 * them; no HTTP), one after another, after untimed warm-up requests. With several models the requests
 * alternate between them, so a pause of the process (GC, another program) hits both alike.
 */
import type { RawColumns } from "../input/raw-input.js";
import type { ServedModel } from "../serving/served-model.js";

export interface LatencyStats {
  /** Timed requests. */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export const DEFAULT_LATENCY_REQUESTS = 500;

/** The nearest-rank percentile (`p` in 0..1) of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

function stats(samples: Float64Array): LatencyStats {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    requests: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sum / sorted.length,
    maxMs: sorted[sorted.length - 1]!,
  };
}

export interface LatencyOptions {
  /** Timed requests per model. */
  readonly requests: number;
  /** Untimed requests per model first (default: a tenth of `requests`, at least 10, at most 100). */
  readonly warmup?: number;
  /** One-row inputs, used in turn. */
  readonly rows: readonly RawColumns[];
}

/** Measures each model's latency over the same one-row requests; results in the order of `models`. */
export async function measureLatency(models: readonly ServedModel[], options: LatencyOptions): Promise<LatencyStats[]> {
  const { requests, rows } = options;
  if (rows.length === 0) throw new Error("no rows to measure latency on");
  const warmup = options.warmup ?? Math.min(100, Math.max(10, Math.round(requests / 10)));
  for (let i = 0; i < warmup; i++) {
    for (const model of models) await model.predict(rows[i % rows.length]!);
  }
  const samples = models.map(() => new Float64Array(requests));
  for (let i = 0; i < requests; i++) {
    const row = rows[i % rows.length]!;
    for (let m = 0; m < models.length; m++) {
      const started = performance.now();
      await models[m]!.predict(row);
      samples[m]![i] = performance.now() - started;
    }
  }
  return samples.map(stats);
}
