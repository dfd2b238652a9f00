import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logLoss } from "./log-loss.js";
import { P3, YT3 } from "./testing/three-classes.js";
import { throwsMl } from "../testing/assertions.js";

const near = (a: number, b: number, tol = 1e-12): void =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe("logLoss", () => {
  it("matches the log_loss docstring: 0.21616...", () => {
    const y = ["spam", "ham", "ham", "spam"];
    near(
      logLoss(y, [
        [0.1, 0.9],
        [0.9, 0.1],
        [0.8, 0.2],
        [0.35, 0.65],
      ]),
      0.21616187468057912,
    );
    // a vector is P(the larger label): here P("spam")
    near(logLoss(y, [0.9, 0.1, 0.2, 0.65]), 0.21616187468057912);
  });

  it("matches scikit-learn 1.2.1 on 3 classes, weighted and summed", () => {
    near(logLoss(YT3, P3), 1.400439583638291);
    near(logLoss(YT3, P3, { sampleWeight: YT3.map((_, i) => i) }), 1.4066060014424622);
    near(logLoss(YT3, P3, { normalize: false }), 42.01318750914873);
    near(logLoss(YT3, Float64Array.from(P3.flat())), 1.400439583638291);
  });

  it("clips probabilities to [eps, 1 − eps] with eps = 2⁻⁵² (scikit-learn ≥ 1.5)", () => {
    near(
      logLoss(
        [0, 1],
        [
          [1, 0],
          [1, 0],
        ],
      ),
      -Math.log(2 ** -52) / 2,
    );
    assert.equal(
      logLoss(
        [0, 1],
        [
          [1, 0],
          [0, 1],
        ],
      ),
      -Math.log(1 - 2 ** -52),
    );
  });

  it("warns about rows that do not sum to one and does not renormalise them", () => {
    const warnings: string[] = [];
    const value = logLoss(
      [0, 1],
      [
        [0.5, 0.2],
        [0.5, 0.2],
      ],
      { onWarning: (m) => warnings.push(m) },
    );
    near(value, (-Math.log(0.5) - Math.log(0.2)) / 2);
    assert.deepEqual(warnings, ["The yProb values do not sum to one. Make sure to pass probabilities."]);
  });

  it("takes labels for classes missing from yTrue", () => {
    near(
      logLoss(
        [1, 1],
        [
          [0.2, 0.8],
          [0.4, 0.6],
        ],
        { labels: [0, 1] },
      ),
      -(Math.log(0.8) + Math.log(0.6)) / 2,
    );
    throwsMl(
      () =>
        logLoss(
          [1, 1],
          [
            [0.2, 0.8],
            [0.4, 0.6],
          ],
        ),
      /only the label 1: pass labels/,
    );
  });

  it("names bad input", () => {
    throwsMl(
      () =>
        logLoss(
          [0, 1],
          [
            [1.5, -0.5],
            [0, 1],
          ],
        ),
      /probabilities must be in \[0, 1\]/,
    );
    throwsMl(
      () =>
        logLoss(
          [0, 1, 2],
          [
            [0.5, 0.5],
            [0.5, 0.5],
            [0.5, 0.5],
          ],
        ),
      /2 columns but there are 3 classes/,
    );
    throwsMl(() => logLoss([0, 1], [0.5]), /not a multiple/);
    throwsMl(() => logLoss([], []), /yTrue is empty/);
    throwsMl(() => logLoss([0, 1], [0.5, Number.NaN]), /NaN/);
    throwsMl(
      () =>
        logLoss(
          [0, 5],
          [
            [0.5, 0.5],
            [0.5, 0.5],
          ],
          { labels: [0, 1] },
        ),
      /yTrue\[1\] = 5 is not one of the labels/,
    );
  });
});
