import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { kFold } from "./k-fold.js";
import { throwsMl } from "../testing/assertions.js";

describe("kFold", () => {
  it("equals scikit-learn's KFold(4) on 10 samples without shuffling", () => {
    // scikit-learn 1.2.1: [test for train, test in KFold(4).split(np.zeros(10))]
    const folds = kFold(10, { k: 4 });
    assert.deepEqual(
      folds.map((f) => Array.from(f.test)),
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
        [8, 9],
      ],
    );
    assert.deepEqual(Array.from(folds[1]?.train ?? []), [0, 1, 2, 6, 7, 8, 9]);
  });

  it("puts every index in exactly one test fold, sizes within 1, train = the rest (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 200 }),
        fc.integer({ min: 2, max: 12 }),
        fc.boolean(),
        fc.integer(),
        (n, k, shuffle, seed) => {
          if (k > n) return;
          const folds = kFold(n, { k, shuffle, seed });
          assert.equal(folds.length, k);
          const seen = new Uint8Array(n);
          const sizes = folds.map((f) => f.test.length);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(",")}`);
          for (const { train, test } of folds) {
            for (const i of test) seen[i] = (seen[i] as number) + 1;
            assert.equal(train.length + test.length, n);
            const inTest = new Set(test);
            for (const i of train) assert.ok(!inTest.has(i), `index ${i} in both`);
            for (let j = 1; j < test.length; j++)
              assert.ok((test[j] as number) > (test[j - 1] as number), "test ascending");
            for (let j = 1; j < train.length; j++)
              assert.ok((train[j] as number) > (train[j - 1] as number), "train ascending");
          }
          assert.ok(
            seen.every((c) => c === 1),
            "every index tested once",
          );
        },
      ),
      { numRuns: 200, seed: 21 },
    );
  });

  it("shuffles deterministically by seed", () => {
    const a = kFold(20, { k: 4, shuffle: true, seed: 3 }).map((f) => Array.from(f.test));
    const b = kFold(20, { k: 4, shuffle: true, seed: 3 }).map((f) => Array.from(f.test));
    const c = kFold(20, { k: 4, shuffle: true, seed: 4 }).map((f) => Array.from(f.test));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notDeepEqual(
      a,
      kFold(20, { k: 4 }).map((f) => Array.from(f.test)),
    );
  });

  it("names bad input", () => {
    throwsMl(() => kFold(10, { k: 1 }), /k must be an integer ≥ 2, got 1/);
    throwsMl(() => kFold(10, { k: 2.5 }), /k must be an integer/);
    throwsMl(() => kFold(3, { k: 4 }), /cannot have k=4 folds with only 3 samples/);
  });
});
