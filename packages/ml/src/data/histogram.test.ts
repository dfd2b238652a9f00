import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Histogram, histogramEdges } from "./histogram.js";
import { QuantileSketch } from "./sketch.js";

describe("Histogram", () => {
  it("counts into [e_i, e_i+1) bins, the last one closed, with underflow and overflow", () => {
    const h = new Histogram([0, 1, 2]);
    for (const v of [-1, 0, 0.5, 1, 1.5, 2, 2.5]) h.add(v);
    assert.deepEqual(h.counts, [2, 3]);
    assert.equal(h.underflow, 1);
    assert.equal(h.overflow, 1);
    assert.equal(h.total, 7);
    const single = new Histogram([3]);
    single.add(3);
    single.add(4);
    assert.deepEqual(single.counts, [1]);
    assert.equal(single.overflow, 1);
    assert.throws(() => new Histogram([1, 1]), /edges must be strictly increasing, but edge 1 \(1\) follows 1/);
    assert.throws(() => new Histogram([]), /edges: must be a non-empty array/);
  });

  it("chooses equal-frequency edges from a reference, one bin per value when there are few", () => {
    const continuous = QuantileSketch.of(Array.from({ length: 1000 }, (_, i) => i));
    const edges = histogramEdges(continuous, { bins: 4 });
    assert.equal(edges.length, 5);
    assert.equal(edges[0], 0);
    assert.equal(edges[4], 999);
    const h = new Histogram(edges);
    for (let i = 0; i < 1000; i++) h.add(i);
    for (const c of h.counts) assert.ok(Math.abs(c - 250) <= 30, String(c)); // two edges, each within the rank error

    const ratings = QuantileSketch.of([1, 2, 2, 3, 3, 3, 5, 5, 5, 5]);
    assert.deepEqual(histogramEdges(ratings), [1, 1.5, 2.5, 4, 5]);
    assert.deepEqual(histogramEdges(QuantileSketch.of([7, 7])), [7]);
    assert.deepEqual(histogramEdges(new QuantileSketch()), []);
    assert.deepEqual(histogramEdges(continuous, { bins: 2, method: "uniform" }), [0, 499.5, 999]);
  });

  it("merges histograms over the same edges and refuses others", () => {
    const a = new Histogram([0, 10, 20]);
    const b = new Histogram([0, 10, 20]);
    a.add(5);
    b.add(15);
    b.add(25);
    assert.deepEqual(a.clone().merge(b).toJSON(), {
      type: "histogram",
      version: 1,
      edges: [0, 10, 20],
      counts: [1, 1],
      underflow: 0,
      overflow: 1,
    });
    assert.throws(() => a.merge(new Histogram([0, 10])), /cannot merge histograms with different edges/);
  });

  it("estimates counts from a sketch when needed", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i % 100);
    const sketch = QuantileSketch.of(values);
    const estimated = Histogram.fromSketch([10, 50, 90], sketch);
    assert.equal(estimated.estimated, true);
    assert.equal(estimated.total, 10_000);
    assert.ok(Math.abs(estimated.underflow - 1000) <= 200);
    assert.ok(Math.abs(estimated.counts[0]! - 4000) <= 200);
    assert.ok(Math.abs(estimated.overflow - 900) <= 200);
    assert.equal(Histogram.fromJSON(JSON.parse(JSON.stringify(estimated))).estimated, true);
  });

  it("rejects bad documents precisely", () => {
    const json = new Histogram([0, 1]).toJSON();
    assert.throws(
      () => Histogram.fromJSON({ ...json, counts: [1, 2] }, "columns.x.histogram"),
      /columns.x.histogram.counts: must have 1 counts for 2 edges, got 2/,
    );
    assert.throws(
      () => Histogram.fromJSON({ ...json, edges: [0, "1"] }),
      /histogram.edges\[1\]: must be a number, got '1'/,
    );
    assert.throws(
      () => Histogram.fromJSON({ ...json, underflow: -1 }),
      /histogram.underflow: must be a non-negative integer, got -1/,
    );
  });
});
