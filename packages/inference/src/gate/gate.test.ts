/**
 * The gate's arithmetic without models: weighted metrics equal the metrics of duplicated rows (what makes
 * a bootstrap draw a weight vector), the paired bootstrap, probability columns put in class order, and
 * the checks for higher- and lower-is-better metrics. End to end: packages/cli/src/gate.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pairedBootstrap, quantile } from "./bootstrap.js";
import { settleProbabilities } from "./gate-data.js";
import { computeMetric, type ModelPredictions, type Truth } from "./gate-metrics.js";
import { gateChecks, verdictLine } from "./gate-report.js";

const truth: Truth = { task: "classification", labels: ["ham", "spam", "spam", "ham", "spam", "ham"] };
const predictions: ModelPredictions = {
  task: "classification",
  labels: ["ham", "spam", "ham", "ham", "spam", "spam"],
  probabilities: {
    classes: ["ham", "spam"],
    values: Float64Array.from([0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.9, 0.1, 0.2, 0.8, 0.45, 0.55]),
  },
};

/** The rows repeated by `counts`. */
function repeat(counts: readonly number[]): { truth: Truth; predictions: ModelPredictions } {
  const rows = counts.flatMap((c, i) => Array.from({ length: c }, () => i));
  const p = predictions as Extract<ModelPredictions, { task: "classification" }>;
  const t = truth as Extract<Truth, { task: "classification" }>;
  return {
    truth: { task: "classification", labels: rows.map((i) => t.labels[i]!) },
    predictions: {
      task: "classification",
      labels: rows.map((i) => p.labels[i]!),
      probabilities: {
        classes: p.probabilities!.classes,
        values: Float64Array.from(
          rows.flatMap((i) => [p.probabilities!.values[2 * i]!, p.probabilities!.values[2 * i + 1]!]),
        ),
      },
    },
  };
}

describe("gate metrics", () => {
  it("weights are draw counts: a weighted metric equals the metric of the repeated rows", () => {
    const counts = [2, 0, 1, 3, 1, 2];
    const weights = Float64Array.from(counts);
    const repeated = repeat(counts);
    for (const metric of ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"] as const) {
      for (const options of [{}, { positiveLabel: "spam" }]) {
        const weighted = computeMetric(metric, truth, predictions, { ...options, weights });
        const plain = computeMetric(metric, repeated.truth, repeated.predictions, options);
        assert.ok(Math.abs(weighted - plain) < 1e-12, `${metric} ${JSON.stringify(options)}: ${weighted} vs ${plain}`);
      }
    }
    const y: Truth = { task: "regression", values: Float64Array.from([1, 2, 3, 4]) };
    const p: ModelPredictions = { task: "regression", values: Float64Array.from([1.5, 2, 2, 5]) };
    const y2: Truth = { task: "regression", values: Float64Array.from([1, 1, 3, 4, 4, 4]) };
    const p2: ModelPredictions = { task: "regression", values: Float64Array.from([1.5, 1.5, 2, 5, 5, 5]) };
    for (const metric of ["rmse", "mae", "r2"] as const) {
      const weighted = computeMetric(metric, y, p, { weights: Float64Array.from([2, 0, 1, 3]) });
      assert.ok(Math.abs(weighted - computeMetric(metric, y2, p2)) < 1e-12, metric);
    }
  });

  it("puts probability columns in sorted class order", () => {
    const settled = settleProbabilities(
      { width: 2, values: Float64Array.from([0.9, 0.1, 0.3, 0.7]) },
      ["spam", "ham"],
      [],
    );
    assert.deepEqual(settled.probabilities?.classes, ["ham", "spam"]);
    assert.deepEqual([...settled.probabilities.values], [0.1, 0.9, 0.7, 0.3]);
    const unnamed = settleProbabilities({ width: 3, values: new Float64Array(6) }, undefined, ["a", "b"]);
    assert.equal(unnamed.probabilities, undefined);
    assert.match(unnamed.note ?? "", /3 columns are not named by the package and 2 labels were seen/);
  });
});

describe("paired bootstrap", () => {
  it("is seeded, and pairs the draws: identical models give [0, 0]", () => {
    const score = (w: Float64Array) => computeMetric("f1", truth, predictions, { weights: w });
    const first = pairedBootstrap(6, (w) => score(w) - 0.5, { seed: 1, resamples: 200 });
    const again = pairedBootstrap(6, (w) => score(w) - 0.5, { seed: 1, resamples: 200 });
    assert.deepEqual(first, again);
    assert.ok(first && first.low < first.high && first.valid === 200);
    const same = pairedBootstrap(6, (w) => score(w) - score(w), { resamples: 100 });
    assert.deepEqual([same?.low, same?.high], [0, 0]);
  });

  it("leaves out draws where the metric is undefined, and gives up below half", () => {
    let i = 0;
    const some = pairedBootstrap(10, () => (i++ % 4 === 0 ? null : 1), { resamples: 100 });
    assert.equal(some?.valid, 75);
    assert.equal(
      pairedBootstrap(10, () => null, { resamples: 100 }),
      null,
    );
    assert.equal(quantile(Float64Array.from([0, 10]), 0.25), 2.5);
  });
});

describe("gate checks", () => {
  it("lower-is-better metrics must go down by min-delta; significance uses the interval's far side", () => {
    const ci = { level: 0.95, low: -0.4, high: -0.05, resamples: 1000, valid: 1000, seed: 42 };
    const checks = gateChecks({
      metric: "rmse",
      higherIsBetter: false,
      candidate: 1.0,
      baseline: { value: 1.2, ci },
      minDelta: 0.1,
      requireSignificant: true,
      latency: { p99Ms: 3, maxP99Ms: 2 },
    });
    assert.deepEqual(
      checks.map((c) => [c.kind, c.rule, c.pass]),
      [
        ["delta", "Δ ≤ -0.1", true],
        ["significance", "CI upper bound < -0.1", false],
        ["latency_p99", "p99 ≤ 2 ms", false],
      ],
    );
    assert.equal(
      verdictLine(checks, 50),
      "FAIL on 50 rows: CI upper bound -0.0500 ≥ -0.1 (not significant); p99 3.00 ms > 2 ms",
    );
  });

  it("without a baseline: min-value when given, else a pass that says so", () => {
    const none = gateChecks({
      metric: "f1",
      higherIsBetter: true,
      candidate: 0.8,
      minDelta: 0,
      requireSignificant: false,
    });
    assert.deepEqual(
      none.map((c) => [c.kind, c.pass]),
      [["no_baseline", true]],
    );
    const floor = gateChecks({
      metric: "f1",
      higherIsBetter: true,
      candidate: 0.8,
      minDelta: 0,
      minValue: 0.9,
      requireSignificant: false,
    });
    assert.deepEqual(
      floor.map((c) => [c.kind, c.rule, c.pass]),
      [["min_value", "≥ 0.9", false]],
    );
  });
});
