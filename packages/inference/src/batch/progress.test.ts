import assert from "node:assert/strict";
import { test } from "node:test";
import { Progress, formatDuration } from "./progress.js";

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

test("on a terminal: a bar redrawn in place with percent, rows/s and ETA", () => {
  let now = 0;
  const out = stream(true);
  const progress = new Progress({ stream: out, label: "batch-predict", total: 1000, now: () => now });
  now = 2000;
  progress.advance(5000, 250);
  assert.equal(progress.line(), "batch-predict: [██████░░░░░░░░░░░░░░░░░░]   25%  5,000 rows  2,500 rows/s  ETA 0:06");
  progress.finish("done: 5,000 rows");
  assert.match(out.writes.join(""), /\rdone: 5,000 rows\n$/);
});

test("elsewhere: plain lines without a bar; without a total, the elapsed time instead of an ETA", () => {
  let now = 0;
  const progress = new Progress({ stream: stream(false), label: "batch-predict", now: () => now });
  now = 65_000;
  progress.advance(130, 0);
  assert.equal(progress.line(), "batch-predict: 130 rows  2 rows/s  elapsed 1:05");
  assert.equal(formatDuration(3725), "1:02:05");
});
