import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StopMatcher } from "./stop-matcher.js";

/** Feeds pieces; returns what was emitted and whether it stopped. */
function run(stops: string[], pieces: string[]): { text: string; stopped: boolean; emits: string[] } {
  const matcher = new StopMatcher(stops);
  const emits: string[] = [];
  let stopped = false;
  for (const piece of pieces) {
    const result = matcher.push(piece);
    emits.push(result.emit);
    if (result.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) emits.push(matcher.flush());
  return { text: emits.join(""), stopped, emits };
}

describe("StopMatcher", () => {
  it("passes text through when there are no stop sequences", () => {
    assert.deepEqual(run([], ["a", "b"]), { text: "ab", stopped: false, emits: ["a", "b", ""] });
  });

  it("stops before a stop sequence inside one piece, or split over several", () => {
    assert.deepEqual(run(["END"], ["abcENDxyz"]).text, "abc");
    const split = run(["END"], ["ab", "cE", "N", "Dxyz"]);
    assert.equal(split.text, "abc");
    assert.equal(split.stopped, true);
    // the partial "E" and "EN" are held, never sent
    assert.deepEqual(split.emits, ["ab", "c", "", ""]);
  });

  it("releases a held tail once it can no longer become a stop sequence", () => {
    const r = run(["END"], ["abE", "Nx", "y"]);
    assert.deepEqual(r.emits, ["ab", "ENx", "y", ""]);
    assert.equal(r.stopped, false);
  });

  it("flushes a held tail at the end of generation", () => {
    assert.deepEqual(run(["END"], ["abEN"]).emits, ["ab", "EN"]);
  });

  it("takes the earliest of several stop sequences, and overlapping prefixes", () => {
    assert.equal(run(["xyz", "b"], ["aaxyzb"]).text, "aa");
    assert.equal(run(["aab"], ["a", "a", "a", "b"]).text, "a");
    assert.equal(run(["\n\n"], ["one\n", "\ntwo"]).text, "one");
  });

  it("ignores empty stop strings", () => {
    assert.equal(run([""], ["abc"]).text, "abc");
  });
});
