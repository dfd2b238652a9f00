/**
 * K-fold cross-validation, as scikit-learn's `KFold`: the (optionally shuffled) indices are cut into k
 * consecutive folds, the first n mod k of them one larger (sizes differ by at most 1); fold i is the test set of
 * split i and the other folds its training set, both in ascending index order. Shuffling uses the seeded
 * `Random` (so the folds are not numpy's for the same seed, but the same on every platform); without shuffling
 * the folds equal scikit-learn's.
 */
import { Random } from "../core/random.js";
import type { Split } from "./split.js";
import { checkFoldCount, splitByMask } from "./split.js";

export interface KFoldOptions {
  /** Number of folds (default 5). */
  k?: number;
  /** Shuffle the indices before cutting the folds (default false, as scikit-learn). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
}

export function kFold(n: number, options: KFoldOptions = {}): Split[] {
  const k = options.k ?? 5;
  checkFoldCount(k, n);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (options.shuffle === true) new Random(options.seed ?? 0).shuffle(order);
  const splits: Split[] = [];
  let start = 0;
  for (let fold = 0; fold < k; fold++) {
    const size = Math.floor(n / k) + (fold < n % k ? 1 : 0);
    const inTest = new Uint8Array(n);
    for (let j = start; j < start + size; j++) inTest[order[j] as number] = 1;
    splits.push(splitByMask(n, inTest));
    start += size;
  }
  return splits;
}
