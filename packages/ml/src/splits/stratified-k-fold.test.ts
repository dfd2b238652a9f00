import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stratifiedKFold } from "./stratified-k-fold.js";
import { throwsMl } from "../testing/assertions.js";

describe("stratifiedKFold", () => {
  it("matches the StratifiedKFold docstring", () => {
    // X = [[1, 2], [3, 4], [1, 2], [3, 4]], y = [0, 0, 1, 1], StratifiedKFold(n_splits=2):
    // TRAIN [1 3] TEST [0 2]; TRAIN [0 2] TEST [1 3]
    const folds = stratifiedKFold([0, 0, 1, 1], { k: 2 });
    assert.deepEqual(
      folds.map((f) => [Array.from(f.train), Array.from(f.test)]),
      [
        [
          [1, 3],
          [0, 2],
        ],
        [
          [0, 2],
          [1, 3],
        ],
      ],
    );
  });

  it("equals scikit-learn 1.2.1's StratifiedKFold(4) without shuffling", () => {
    const y = [1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2, 2, 0, 1, 2, 0, 1, 1, 0];
    assert.deepEqual(
      stratifiedKFold(y, { k: 4 }).map((f) => Array.from(f.test)),
      [
        [0, 1, 2, 6, 9],
        [3, 4, 7, 8, 10],
        [5, 11, 13, 14, 16],
        [12, 15, 17, 18, 19],
      ],
    );
    const s = ["b", "a", "b", "c", "a", "b", "b", "c", "a", "b", "c", "b", "a", "b", "c", "a", "b"];
    assert.deepEqual(
      stratifiedKFold(s, { k: 3 }).map((f) => Array.from(f.test)),
      [
        [0, 1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10, 11],
        [12, 13, 14, 15, 16],
      ],
    );
  });

  it("covers every index once, balances fold sizes and each class across folds (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 120 }),
        fc.integer({ min: 2, max: 6 }),
        fc.boolean(),
        fc.integer(),
        (labels, k, shuffle, seed) => {
          const counts = new Map<number, number>();
          for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
          if ([...counts.values()].some((c) => c < k)) return;
          const folds = stratifiedKFold(labels, { k, shuffle, seed });
          const seen = new Uint8Array(labels.length);
          const sizes = folds.map((f) => f.test.length);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes.join(",")}`);
          for (const [label, count] of counts) {
            const perFold = folds.map((f) => Array.from(f.test).filter((i) => labels[i] === label).length);
            assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `class ${label}: ${perFold.join(",")}`);
            assert.equal(
              perFold.reduce((a, b) => a + b, 0),
              count,
            );
          }
          for (const { train, test } of folds) {
            for (const i of test) seen[i] = (seen[i] as number) + 1;
            assert.equal(train.length + test.length, labels.length);
          }
          assert.ok(
            seen.every((c) => c === 1),
            "every index tested once",
          );
        },
      ),
      { numRuns: 200, seed: 22 },
    );
  });

  it("shuffles deterministically by seed, keeping the per-class counts", () => {
    const y = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "x" : "y"));
    const a = stratifiedKFold(y, { k: 4, shuffle: true, seed: 1 }).map((f) => Array.from(f.test));
    assert.deepEqual(
      a,
      stratifiedKFold(y, { k: 4, shuffle: true, seed: 1 }).map((f) => Array.from(f.test)),
    );
    assert.notDeepEqual(
      a,
      stratifiedKFold(y, { k: 4 }).map((f) => Array.from(f.test)),
    );
  });

  it("names bad input", () => {
    throwsMl(
      () => stratifiedKFold([0, 0, 0, 1, 1, 1, 2, 2], { k: 3 }),
      /the class 2 has 2 members, fewer than k=3 folds/,
    );
    throwsMl(() => stratifiedKFold([0, 1, 0, 1], { k: 1 }), /k must be an integer ≥ 2/);
    throwsMl(() => stratifiedKFold([0, 1], { k: 3 }), /cannot have k=3 folds/);
    throwsMl(() => stratifiedKFold([0, "1", 0, 1], { k: 2 }), /mixes numbers and strings/);
  });
});
