/**
 * Link functions of linear classifiers, in numerically stable forms: sigmoid and log(1 + eˣ) that never
 * overflow, row-wise softmax and log-sum-exp shifted by the row maximum, argmax with numpy's tie rule.
 */
import type { Label } from "../core/linear.js";

/** Stable log(1 + exp(z)). */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Stable 1 / (1 + exp(−z)). */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log Σⱼ exp(values[start + j]) for j < k, shifted by the maximum. */
export function logSumExp(values: Float64Array, start: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, values[start + j] as number);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp((values[start + j] as number) - max);
  return max + Math.log(sum);
}

/** In place: each row of n × k scores becomes its softmax (max-shifted, so it never overflows). */
export function softmaxRows(scores: Float64Array, k: number): void {
  for (let start = 0; start < scores.length; start += k) {
    const lse = logSumExp(scores, start, k);
    for (let j = 0; j < k; j++) scores[start + j] = Math.exp((scores[start + j] as number) - lse);
  }
}

/** The class of the largest score of each row of n × classes.length scores (the first on ties, as numpy). */
export function argmaxRows(scores: Float64Array, classes: readonly Label[]): Label[] {
  const k = classes.length;
  const out: Label[] = [];
  for (let start = 0; start < scores.length; start += k) {
    let best = 0;
    for (let j = 1; j < k; j++) if ((scores[start + j] as number) > (scores[start + best] as number)) best = j;
    out.push(classes[best] as Label);
  }
  return out;
}
