import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import {
  comparePoints,
  decodePacked,
  decodePoints,
  encodePoints,
  renderPoints,
  sampleInStepOrder,
  sortUnique,
  type Point,
} from "./metric-chunks.js";
import { parseJson } from "@slipway/protocol";

it("orders points by timestamp, step, then value with NaN last, and drops exact duplicates", () => {
  const pts: Point[] = [
    { timestamp: 2, step: 0, value: 1 },
    { timestamp: 1, step: 5, value: NaN },
    { timestamp: 1, step: 5, value: 3 },
    { timestamp: 1, step: 5, value: NaN },
    { timestamp: 1, step: 1, value: 9 },
    { timestamp: 2, step: 0, value: 1 },
  ];
  const out = sortUnique(pts);
  assert.deepEqual(
    out.map((p) => [p.timestamp, p.step, p.value]),
    [
      [1, 1, 9],
      [1, 5, 3],
      [1, 5, NaN],
      [2, 0, 1],
    ],
  );
  assert.equal(comparePoints({ timestamp: 1, step: 1, value: NaN }, { timestamp: 1, step: 1, value: NaN }), 0);
});

it("packs and unpacks points exactly, from unaligned buffers too", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
          step: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
          value: fc.double(),
        }),
        { maxLength: 50 },
      ),
      (points) => {
        const blob = encodePoints(points);
        const shifted = Buffer.concat([Buffer.from([7]), blob]).subarray(1);
        const back = decodePoints(shifted);
        assert.equal(back.length, points.length);
        back.forEach((p, i) => {
          assert.equal(p.timestamp, points[i]!.timestamp);
          assert.equal(p.step, points[i]!.step);
          assert.ok(Object.is(p.value, points[i]!.value) || (Number.isNaN(p.value) && Number.isNaN(points[i]!.value)));
        });
      },
    ),
  );
});

it("renders MLflow Metric JSON, with the NaN token where needed", () => {
  const text = `[${renderPoints("loss", [
    { timestamp: 5, step: 1, value: 0.25 },
    { timestamp: 6, step: 2, value: NaN },
  ])}]`;
  assert.match(text, /"value":NaN/);
  const parsed = parseJson(text) as { key: string; value: number; timestamp: number; step: number }[];
  assert.deepEqual(parsed[0], { key: "loss", value: 0.25, timestamp: 5, step: 1 });
  assert.ok(Number.isNaN(parsed[1]!.value));
});

it("samples packed chunks like the object path, or says they are out of step order", () => {
  const point = fc.record({
    timestamp: fc.integer({ min: 0, max: 50 }),
    step: fc.integer({ min: 0, max: 40 }),
    value: fc.oneof(fc.double({ noNaN: true, min: -5, max: 5 }), fc.constant(NaN)),
  });
  const byStep = (a: Point, b: Point) => a.step - b.step || comparePoints(a, b);
  fc.assert(
    fc.property(
      fc.array(point, { maxLength: 60 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 40 }),
      (points, ordered, max, lo) => {
        const plain = points.map((p) => ({ timestamp: p.timestamp, step: p.step, value: p.value }));
        const input = ordered ? plain.sort(byStep) : plain;
        const chunks = [input.slice(0, 20), input.slice(20)].map(encodePoints);
        const pick = (steps: number[]) => steps.filter((_, i) => i % Math.ceil(steps.length / max) === 0);
        const got = sampleInStepOrder(decodePacked(chunks), { lo, hi: Infinity }, pick);
        const inRange = input.filter((p) => p.step >= lo);
        const inOrder = inRange.every((p, i) => i === 0 || byStep(inRange[i - 1]!, p) <= 0);
        if (!inOrder) return got === undefined;
        const steps = [...new Set(inRange.map((p) => p.step))];
        const wanted = new Set(pick(steps));
        assert.deepEqual(
          got,
          inRange.filter((p) => wanted.has(p.step)),
        );
        return true;
      },
    ),
  );
});
