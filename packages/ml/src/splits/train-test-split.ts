/**
 * A train/test split of row indices, as scikit-learn's `train_test_split` (`ShuffleSplit`, and
 * `StratifiedShuffleSplit` with `stratify`):
 * - sizes: `testSize` below 1 is a fraction and the test set gets ceil(testSize · n) rows; an integer ≥ 1 is a
 *   count. `trainSize` likewise, with floor for fractions. Without either, testSize is 0.25; with one, the other
 *   is the rest. Both together may leave rows out, never overlap.
 * - without stratify: a seeded permutation, the first nTest indices for test and the next nTrain for train;
 *   `shuffle: false` takes the first nTrain rows for train and the next nTest for test, in order.
 * - stratify: each class gets its share of the training rows by scikit-learn's `_approximate_mode` (floors of
 *   the exact shares, the rows left over going to the classes with the largest remainders, ties broken at
 *   random), then its share of the test rows from what is left the same way; so with nTrain + nTest = n each
 *   class's test count is within 1 of its proportion and the totals are exact. Both index lists are then
 *   shuffled.
 * Randomness is the seeded `Random` (default seed 0), so the indices are not numpy's for the same seed, but the
 * same on every platform.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { Random } from "../core/random.js";
import { checkLabels, labelText, uniqueLabels, encodeLabels } from "../models/labels.js";
import type { Split } from "./split.js";

export interface TrainTestSplitOptions {
  /** A fraction in (0, 1) or a count ≥ 1 (default 0.25 when trainSize is not given either). */
  testSize?: number;
  /** A fraction in (0, 1) or a count ≥ 1 (default: the rest). */
  trainSize?: number;
  /** Shuffle (default true). */
  shuffle?: boolean;
  /** Seed (default 0). */
  seed?: number;
  /** Labels to keep the class proportions of, one per row (needs shuffle). */
  stratify?: readonly Label[];
}

/** Splits n rows (or as many rows as `rows` has). */
export function trainTestSplit(rows: number | ArrayLike<unknown>, options: TrainTestSplitOptions = {}): Split {
  const n = typeof rows === "number" ? rows : rows.length;
  if (!Number.isInteger(n) || n < 0) throw new MlError(`the number of rows must be a non-negative integer, got ${n}`);
  const { nTrain, nTest } = splitSizes(n, options.testSize, options.trainSize);
  const shuffle = options.shuffle ?? true;
  if (options.stratify !== undefined) {
    if (!shuffle) throw new MlError("a stratified split needs shuffle: true");
    return stratifiedSplit(options.stratify, n, nTrain, nTest, new Random(options.seed ?? 0));
  }
  if (!shuffle) {
    return {
      train: Int32Array.from({ length: nTrain }, (_, i) => i),
      test: Int32Array.from({ length: nTest }, (_, i) => nTrain + i),
    };
  }
  const order = new Random(options.seed ?? 0).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  return { train: order.slice(nTest, nTest + nTrain), test: order.slice(0, nTest) };
}

/** scikit-learn's _validate_shuffle_split: ceil for a test fraction, floor for a train fraction. */
export function splitSizes(n: number, testSize?: number, trainSize?: number): { nTrain: number; nTest: number } {
  const size = (value: number, name: string, round: (x: number) => number): number => {
    if (!Number.isFinite(value) || value <= 0)
      throw new MlError(`${name}=${value} must be a fraction in (0, 1) or a count ≥ 1`);
    if (value < 1) return round(value * n);
    if (!Number.isInteger(value))
      throw new MlError(`${name}=${value} must be a fraction in (0, 1) or an integer count`);
    if (value >= n) throw new MlError(`${name}=${value} must be smaller than the number of rows, ${n}`);
    return value;
  };
  const test = testSize ?? (trainSize === undefined ? 0.25 : undefined);
  let nTest = test === undefined ? undefined : size(test, "testSize", Math.ceil);
  let nTrain = trainSize === undefined ? undefined : size(trainSize, "trainSize", Math.floor);
  if (testSize !== undefined && trainSize !== undefined && testSize < 1 && trainSize < 1 && testSize + trainSize > 1) {
    throw new MlError(`testSize + trainSize = ${testSize + trainSize} is more than 1`);
  }
  nTrain ??= n - (nTest as number);
  nTest ??= n - nTrain;
  if (nTrain + nTest > n) {
    throw new MlError(`${nTrain} training rows and ${nTest} test rows are more than the ${n} rows`);
  }
  if (nTrain === 0) throw new MlError(`with ${n} rows and these sizes the training set would be empty`);
  if (nTest === 0) throw new MlError(`with ${n} rows and these sizes the test set would be empty`);
  return { nTrain, nTest };
}

/**
 * scikit-learn's _approximate_mode: nDraws split over classes in proportion to counts, floors first, then one
 * more for the classes with the largest remainders (at random among equal remainders). Exact integer arithmetic.
 */
export function approximateMode(counts: Int32Array, nDraws: number, random: Random): Int32Array {
  let total = 0;
  for (const c of counts) total += c;
  const out = new Int32Array(counts.length);
  const remainder = new Float64Array(counts.length);
  let assigned = 0;
  counts.forEach((c, i) => {
    const exact = c * nDraws;
    const floor = Math.floor(exact / total);
    out[i] = floor;
    remainder[i] = exact - floor * total;
    assigned += floor;
  });
  let need = nDraws - assigned;
  const values = [...new Set(remainder)].sort((a, b) => b - a);
  for (const value of values) {
    if (need === 0) break;
    const tied: number[] = [];
    remainder.forEach((r, i) => {
      if (r === value) tied.push(i);
    });
    random.shuffle(tied);
    for (const i of tied.slice(0, Math.min(tied.length, need))) out[i] = (out[i] as number) + 1;
    need -= Math.min(tied.length, need);
  }
  return out;
}

function stratifiedSplit(labels: readonly Label[], n: number, nTrain: number, nTest: number, random: Random): Split {
  if (labels.length !== n) throw new MlError(`stratify has ${labels.length} labels but there are ${n} rows`);
  checkLabels(labels, "stratify");
  const classes = uniqueLabels(labels);
  const encoded = encodeLabels(labels, classes, "stratify");
  const counts = new Int32Array(classes.length);
  for (const c of encoded) counts[c] = (counts[c] as number) + 1;
  counts.forEach((count, c) => {
    if (count < 2) {
      throw new MlError(
        `the class ${labelText(classes[c] as Label)} has only ${count} member; a stratified split needs at least 2`,
      );
    }
  });
  if (nTrain < classes.length) {
    throw new MlError(
      `the training set (${nTrain} rows) must have at least one row per class (${classes.length} classes)`,
    );
  }
  if (nTest < classes.length) {
    throw new MlError(`the test set (${nTest} rows) must have at least one row per class (${classes.length} classes)`);
  }
  const members: number[][] = classes.map(() => []);
  encoded.forEach((c, i) => members[c]?.push(i));
  const trainCounts = approximateMode(counts, nTrain, random);
  const remaining = counts.map((c, i) => c - (trainCounts[i] as number));
  const testCounts = approximateMode(remaining, nTest, random);
  const train: number[] = [];
  const test: number[] = [];
  members.forEach((rows, c) => {
    random.shuffle(rows);
    const a = trainCounts[c] as number;
    train.push(...rows.slice(0, a));
    test.push(...rows.slice(a, a + (testCounts[c] as number)));
  });
  return { train: random.shuffle(Int32Array.from(train)), test: random.shuffle(Int32Array.from(test)) };
}
