import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classificationReport } from "./classification-report.js";

const near = (a: number | undefined, b: number, tol = 1e-12): void =>
  assert.ok(a !== undefined && Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe("classificationReport", () => {
  it("matches the classification_report docstring (output_dict=True)", () => {
    const report = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]);
    assert.deepEqual(
      report.perLabel.map((r) => [r.label, r.support]),
      [
        [0, 1],
        [1, 1],
        [2, 3],
      ],
    );
    near(report.perLabel[0]?.precision, 0.5);
    near(report.perLabel[0]?.f1Score, 2 / 3);
    near(report.perLabel[2]?.recall, 2 / 3);
    near(report.perLabel[2]?.f1Score, 0.8);
    near(report.accuracy, 0.6);
    assert.equal(report.microAvg, undefined);
    near(report.macroAvg.precision, 0.5);
    near(report.macroAvg.recall, 0.5555555555555555);
    near(report.macroAvg.f1Score, 0.48888888888888893);
    assert.equal(report.macroAvg.support, 5);
    near(report.weightedAvg.precision, 0.7);
    near(report.weightedAvg.recall, 0.6);
    near(report.weightedAvg.f1Score, 0.6133333333333334);
    assert.deepEqual(report.warnings, []);
  });

  it("reports a micro average instead of accuracy for a subset of labels, with warnings", () => {
    // classification_report([1, 1, 1], [1, 1, 0], labels=[1, 2, 3], output_dict=True), scikit-learn 1.2.1
    const report = classificationReport([1, 1, 1], [1, 1, 0], { labels: [1, 2, 3] });
    assert.equal(report.accuracy, undefined);
    near(report.microAvg?.precision, 1);
    near(report.microAvg?.recall, 2 / 3);
    near(report.microAvg?.f1Score, 0.8);
    assert.equal(report.microAvg?.support, 3);
    near(report.macroAvg.precision, 1 / 3);
    near(report.macroAvg.recall, 0.2222222222222222);
    near(report.macroAvg.f1Score, 0.26666666666666666);
    near(report.weightedAvg.f1Score, 0.8);
    assert.deepEqual(
      report.perLabel.map((r) => r.support),
      [3, 0, 0],
    );
    assert.ok(report.warnings.length > 0, "ill-defined precision and recall are reported");
  });
});
