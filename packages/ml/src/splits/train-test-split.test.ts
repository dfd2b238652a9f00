import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Random } from "../core/random.js";
import { approximateMode, splitSizes, trainTestSplit } from "./train-test-split.js";
import { throwsMl } from "../testing/assertions.js";

describe("trainTestSplit sizes", () => {
  it("rounds like scikit-learn: ceil for the test fraction, floor for the train fraction", () => {
    // scikit-learn 1.2.1: len(train), len(test) of train_test_split(np.arange(n), test_size=…, train_size=…, shuffle=False)
    assert.deepEqual(splitSizes(10, 0.25), { nTrain: 7, nTest: 3 });
    assert.deepEqual(splitSizes(7, 0.33), { nTrain: 4, nTest: 3 });
    assert.deepEqual(splitSizes(5, undefined, 0.5), { nTrain: 2, nTest: 3 });
    assert.deepEqual(splitSizes(10, 3), { nTrain: 7, nTest: 3 });
    assert.deepEqual(splitSizes(10, 0.3, 0.5), { nTrain: 5, nTest: 3 });
    assert.deepEqual(splitSizes(9), { nTrain: 6, nTest: 3 });
  });

  it("without shuffle takes the first rows for train and the next for test", () => {
    const { train, test } = trainTestSplit(10, { testSize: 0.3, trainSize: 0.5, shuffle: false });
    assert.deepEqual(Array.from(train), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(test), [5, 6, 7]);
    assert.equal(trainTestSplit(["a", "b", "c", "d"], { testSize: 1, shuffle: false }).test[0], 3);
  });

  it("names sizes out of range", () => {
    throwsMl(() => splitSizes(10, 0), /testSize=0 must be a fraction/);
    throwsMl(() => splitSizes(10, -0.1), /testSize=-0.1/);
    throwsMl(() => splitSizes(10, 10), /testSize=10 must be smaller than the number of rows, 10/);
    throwsMl(() => splitSizes(10, 2.5), /integer count/);
    throwsMl(() => splitSizes(10, 0.6, 0.6), /more than 1/);
    throwsMl(() => splitSizes(10, 6, 5), /more than the 10 rows/);
    throwsMl(() => splitSizes(2, 0.99), /training set would be empty/);
    throwsMl(() => splitSizes(0), /empty/);
  });
});

describe("trainTestSplit shuffled", () => {
  it("partitions the rows, deterministically by seed (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.integer(),
        (n, testSize, seed) => {
          let sizes;
          try {
            sizes = splitSizes(n, testSize);
          } catch {
            return;
          }
          const { train, test } = trainTestSplit(n, { testSize, seed });
          assert.equal(test.length, sizes.nTest);
          assert.equal(train.length, sizes.nTrain);
          const all = [...train, ...test].sort((a, b) => a - b);
          assert.deepEqual(
            all,
            Array.from({ length: n }, (_, i) => i),
          );
          assert.deepEqual(trainTestSplit(n, { testSize, seed }).test, test);
        },
      ),
      { numRuns: 150, seed: 31 },
    );
  });
});

describe("trainTestSplit stratified", () => {
  it("keeps each class's test count within 1 of its proportion, totals exact (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: 10, maxLength: 200 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.integer(),
        (labels, testSize, seed) => {
          const counts = new Map<string, number>();
          for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
          const n = labels.length;
          let sizes;
          try {
            sizes = splitSizes(n, testSize);
          } catch {
            return;
          }
          if ([...counts.values()].some((c) => c < 2) || sizes.nTest < counts.size || sizes.nTrain < counts.size)
            return;
          const { train, test } = trainTestSplit(labels, { testSize, seed, stratify: labels });
          assert.equal(test.length, sizes.nTest);
          assert.equal(train.length, sizes.nTrain);
          const all = [...train, ...test].sort((a, b) => a - b);
          assert.deepEqual(
            all,
            Array.from({ length: n }, (_, i) => i),
          );
          for (const [label, count] of counts) {
            const inTest = Array.from(test).filter((i) => labels[i] === label).length;
            const expected = (count * sizes.nTest) / n;
            assert.ok(Math.abs(inTest - expected) < 1, `class ${label}: ${inTest} in test, proportion ${expected}`);
          }
        },
      ),
      { numRuns: 200, seed: 32 },
    );
  });

  it("names classes too small for the split", () => {
    throwsMl(() => trainTestSplit(4, { stratify: [0, 0, 0, 1] }), /the class 1 has only 1 member/);
    throwsMl(
      () => trainTestSplit(6, { testSize: 2, stratify: [0, 0, 1, 1, 2, 2] }),
      /test set \(2 rows\) must have at least one row per class \(3 classes\)/,
    );
    throwsMl(() => trainTestSplit(6, { trainSize: 2, stratify: [0, 0, 1, 1, 2, 2] }), /training set \(2 rows\)/);
    throwsMl(() => trainTestSplit(6, { stratify: [0, 0, 1, 1] }), /stratify has 4 labels but there are 6 rows/);
    throwsMl(() => trainTestSplit(6, { shuffle: false, stratify: [0, 0, 0, 1, 1, 1] }), /needs shuffle: true/);
  });
});

describe("approximateMode", () => {
  it("draws in proportion, the largest remainders rounding up", () => {
    // scikit-learn's _approximate_mode docstring: class_counts [2, 2, 2, 1], n_draws 2 -> [1, 1, 0, 0] or a tie permutation
    const r = approximateMode(Int32Array.from([2, 2, 2, 1]), 2, new Random(0));
    assert.equal(
      r.reduce((a, b) => a + b, 0),
      2,
    );
    assert.equal(r[3], 0);
    // class_counts [5, 2], n_draws 4 -> [3, 1]
    assert.deepEqual(Array.from(approximateMode(Int32Array.from([5, 2]), 4, new Random(0))), [3, 1]);
  });
});
