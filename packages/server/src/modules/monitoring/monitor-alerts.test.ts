/** Alert rule values and conditions, performance metrics on labelled rows, and outputs as prediction columns. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DriftSummary, PerformanceSummary } from "@slipway/protocol";
import { checkAlert } from "./monitor-alerts.js";
import { baselineFromRunMetrics, evaluatePerformance, predictionColumns, quantile } from "./monitor-performance.js";

const drift: DriftSummary = {
  dataset_drift: true,
  share: 0.5,
  drift_share: 0.5,
  tested_columns: 2,
  drifted_columns: 1,
  reference_rows: 100,
  current_rows: 100,
  columns: [
    {
      column: "x",
      type: "numeric",
      test: "ks",
      score: 0.001,
      threshold: 0.05,
      comparison: "<=",
      drift: true,
      statistics: {},
      findings: [],
    },
    {
      column: "y",
      type: "numeric",
      test: "wasserstein",
      score: 0.02,
      threshold: 0.1,
      comparison: ">=",
      drift: false,
      statistics: {},
      findings: [],
    },
    { column: "z", type: "numeric", score: null, threshold: null, drift: null, statistics: {}, findings: [] },
  ],
};

const performance: PerformanceSummary = {
  labelled: 50,
  max_drop: 0.05,
  metrics: {
    accuracy: { value: 0.8, baseline: 0.9, drop: 0.1, degraded: true },
    f1: { value: 0.7, baseline: null, drop: null, degraded: null },
  },
  degraded: true,
};

describe("checkAlert", () => {
  const errors = { requests: 200, server_errors: 3, client_errors: 40, error_rate: 0.015, client_error_rate: 0.2 };
  const inputs = {
    rows: 100,
    featureDrift: drift,
    performance,
    latency: { rows: 100, p50_ms: 5, p99_ms: 80 },
    errors,
  };

  it("computes each condition's value and compares it", () => {
    const cases: [Parameters<typeof checkAlert>[0], number | null, boolean | null][] = [
      [{ name: "a", when: "dataset_drift" }, 1, true],
      [{ name: "a", when: "drift_share", threshold: 0.6 }, 0.5, false],
      [{ name: "a", when: "drift_share", op: ">", threshold: 0.4 }, 0.5, true],
      [{ name: "a", when: "feature_drift" }, 1, true],
      [{ name: "a", when: "feature_drift", threshold: 2 }, 1, false],
      [{ name: "a", when: "feature_drift", feature: "y" }, 0, false],
      // a p-value score: the column's own side (<=) unless op says otherwise
      [{ name: "a", when: "feature_drift", feature: "x", threshold: 0.01 }, 0.001, true],
      [{ name: "a", when: "feature_drift", feature: "y", threshold: 0.01 }, 0.02, true],
      [{ name: "a", when: "feature_drift", feature: "z" }, null, null],
      [{ name: "a", when: "feature_drift", feature: "nope" }, null, null],
      [{ name: "a", when: "metric_drop", metric: "accuracy" }, 0.1, true],
      [{ name: "a", when: "metric_drop", metric: "accuracy", threshold: 0.2 }, 0.1, false],
      [{ name: "a", when: "metric_drop", metric: "f1" }, null, null],
      [{ name: "a", when: "metric_drop", metric: "roc_auc" }, null, null],
      [{ name: "a", when: "latency_p99_ms", threshold: 50 }, 80, true],
      [{ name: "a", when: "min_rows", threshold: 100 }, 100, false],
      [{ name: "a", when: "min_rows", op: "<=", threshold: 100 }, 100, true],
      // the 5xx share only: 4xx answers are the clients' errors
      [{ name: "a", when: "error_rate", threshold: 0.01 }, 0.015, true],
      [{ name: "a", when: "error_rate", threshold: 0.015 }, 0.015, false],
      [{ name: "a", when: "error_rate", op: ">=", threshold: 0.015 }, 0.015, true],
    ];
    for (const [rule, value, active] of cases) {
      const check = checkAlert(rule, inputs);
      assert.deepEqual([check.value, check.active], [value, active], JSON.stringify(rule));
      assert.equal(check.rule, "a");
      assert.ok(check.message.length > 0);
    }
  });

  it("is unknown (keeps the state) when the window cannot say", () => {
    for (const rule of [
      { name: "a", when: "dataset_drift" as const },
      { name: "a", when: "latency_p99_ms" as const, threshold: 1 },
      { name: "a", when: "metric_drop" as const, metric: "accuracy" as const },
      { name: "a", when: "error_rate" as const, threshold: 0.01 },
    ]) {
      assert.equal(checkAlert(rule, { rows: 0 }).active, null);
    }
    assert.equal(checkAlert({ name: "a", when: "min_rows", threshold: 1 }, { rows: 0 }).active, true);
  });

  it("names the error counts in the error_rate message", () => {
    const check = checkAlert({ name: "errors", when: "error_rate", threshold: 0.01 }, inputs);
    assert.equal(check.message, "5xx error rate (3 of 200 requests) is 0.015 (alert when > 0.01)");
    assert.match(
      checkAlert({ name: "errors", when: "error_rate", threshold: 0.01 }, { rows: 0 }).message,
      /no request/,
    );
  });
});

describe("performance", () => {
  it("accuracy, binary F1 and ROC AUC against the baseline, with string and boolean classes", () => {
    const rows = [
      { label: "spam", output: { label: "spam", probability: 0.9 } },
      { label: "spam", output: { label: "ham", probability: 0.4 } },
      { label: "ham", output: { label: "ham", probability: 0.2 } },
      { label: "ham", output: { label: "spam", probability: 0.6 } },
    ];
    const r = evaluatePerformance(rows, { positive_label: "spam", min_labels: 2 }, { accuracy: 0.9, roc_auc: 0.8 });
    assert.equal(r.summary.labelled, 4);
    assert.equal(r.values.accuracy, 0.5);
    assert.equal(r.values.f1, 0.5);
    assert.equal(r.values.roc_auc, 0.75);
    assert.deepEqual(r.summary.metrics.accuracy, { value: 0.5, baseline: 0.9, drop: 0.4, degraded: true });
    assert.equal(r.summary.metrics.roc_auc!.degraded, false);
    assert.equal(r.summary.degraded, true);

    // a boolean label and a "true" prediction are the same class; true is the positive class by default
    const b = evaluatePerformance(
      [
        { label: true, output: "true" },
        { label: false, output: "false" },
      ],
      {},
      {},
    );
    assert.equal(b.values.accuracy, 1);
    assert.equal(b.summary.positive_label, "true");
    assert.ok(b.findings.some((f) => f.kind === "few_labels"));
    assert.ok(b.findings.some((f) => f.kind === "no_baseline"));
  });

  it("macro F1 with more than two classes, and findings for unusable rows", () => {
    const r = evaluatePerformance(
      [
        { label: 0, output: 0 },
        { label: 1, output: 1 },
        { label: 2, output: 1 },
        { label: { nested: true }, output: 1 },
        { label: 1, output: [0.2, 0.8] },
      ],
      {},
      {},
    );
    assert.equal(r.summary.labelled, 3);
    assert.ok(Math.abs(r.values.f1! - (1 + 2 / 3 + 0) / 3) < 1e-12);
    assert.equal(r.values.roc_auc, undefined);
    assert.deepEqual(
      r.findings.map((f) => f.kind),
      ["unusable_labels", "no_predicted_class", "few_labels", "no_baseline"],
    );
  });

  it("baselines from run metrics, quantiles and prediction columns", () => {
    assert.deepEqual(
      baselineFromRunMetrics([
        { key: "test_accuracy", value: 0.91 },
        { key: "accuracy", value: 0.9 },
        { key: "val_f1_score", value: 0.8 },
        { key: "roc_auc", value: NaN },
      ]),
      { accuracy: 0.9, f1: 0.8 },
    );
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0.99), 3.9699999999999998);
    assert.deepEqual(predictionColumns(0.7), { prediction: 0.7 });
    assert.deepEqual(predictionColumns({ label: "spam", p: 0.9, scores: [1, 2], extra: null }), {
      "prediction.label": "spam",
      "prediction.p": 0.9,
      "prediction.extra": null,
    });
    assert.deepEqual(predictionColumns([1, 2]), {});
  });
});
