import assert from "node:assert/strict";
import { test } from "node:test";
import { MlError } from "../core/errors.js";
import { confusionMatrixSvg, lineChartSvg } from "./svg-charts.js";

/** Well-formedness: every tag closed in order, attributes quoted, no raw '<' or '&' in text. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
  const text = svg.replace(/<[^>]*>/g, "");
  assert.doesNotMatch(text, /[<]|&(?!(lt|gt|amp|quot|#39);)/);
}

test("confusion matrix: one cell per (true, predicted) pair with its count and row share", () => {
  const svg = confusionMatrixSvg(
    [
      [50, 2],
      [3, 45],
    ],
    ["ham", "spam <&>"],
    { title: "Test set" },
  );
  assertWellFormed(svg);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 4);
  for (const text of [">50<", ">2<", ">3<", ">45<", ">96.2%<", ">6.3%<", "spam &lt;&amp;&gt;", "Test set"]) {
    assert.ok(svg.includes(text), text);
  }
  assert.throws(() => confusionMatrixSvg([[1, 2]], ["a", "b"]), MlError);
  assert.throws(() => confusionMatrixSvg([], []), /at least one label/);
});

test("line chart: points inside the plot, steps, log axis, legend for several series", () => {
  const loss = { name: "loss", x: [0, 1, 2, 3], y: [0.69, 0.3, 0.1, 0.05] };
  const svg = lineChartSvg([loss], { title: "Training loss", xLabel: "iteration", yLabel: "loss", logY: true });
  assertWellFormed(svg);
  const points = /points="([^"]+)"/
    .exec(svg)![1]!
    .split(" ")
    .map((p) => p.split(",").map(Number));
  assert.equal(points.length, 4);
  for (const [x, y] of points) {
    assert.ok(x! >= 70 && x! <= 640 - 24, `x ${x}`);
    assert.ok(y! >= 20 && y! <= 400 - 52, `y ${y}`);
  }
  assert.ok(points[0]![1]! < points[3]![1]!, "a falling loss is drawn falling");
  const roc = lineChartSvg(
    [
      { name: "model", x: [0, 0.1, 1], y: [0, 0.9, 1], step: true },
      { name: "baseline", x: [0, 1], y: [0, 1] },
    ],
    { xRange: [0, 1], yRange: [0, 1], diagonal: true },
  );
  assertWellFormed(roc);
  assert.equal(/points="([^"]+)"/.exec(roc)![1]!.split(" ").length, 5, "steps add a corner per point");
  assert.ok(roc.includes(">baseline<") && roc.includes("stroke-dasharray"));
  assert.throws(() => lineChartSvg([{ name: "bad", x: [1, 2], y: [1] }]), /2 x values but 1 y values/);
  assert.throws(() => lineChartSvg([]), MlError);
  // NaN points are skipped, not drawn at NaN coordinates
  assert.doesNotMatch(lineChartSvg([{ name: "gap", x: [0, 1, 2], y: [1, Number.NaN, 2] }]), /NaN/);
});
