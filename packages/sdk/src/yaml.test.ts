import { test } from "node:test";
import assert from "node:assert/strict";
import { toYaml } from "./yaml.js";

test("nested objects, arrays and scalars", () => {
  const text = toYaml({
    model: { name: "spam-lr", layers: [64, 32], dropout: 0.1, tags: [] },
    enabled: true,
    missing: null,
    skip: undefined,
    runs: [
      { id: "a", ok: false },
      { id: "b", ok: true },
    ],
    matrix: [[1, 2], [3]],
    empty: {},
  });
  assert.equal(
    text,
    [
      "model:",
      "  name: spam-lr",
      "  layers:",
      "  - 64",
      "  - 32",
      "  dropout: 0.1",
      "  tags: []",
      "enabled: true",
      "missing: null",
      "runs:",
      "- id: a",
      "  ok: false",
      "- id: b",
      "  ok: true",
      "matrix:",
      "- - 1",
      "  - 2",
      "- - 3",
      "empty: {}",
      "",
    ].join("\n"),
  );
});

test("strings that would read back as something else are quoted", () => {
  assert.equal(
    toYaml({
      a: "true",
      b: "123",
      c: "null",
      d: "x: y",
      e: "# no",
      f: "",
      g: "line\nbreak",
      h: " pad",
      i: "-1",
      j: "plain text",
    }),
    [
      'a: "true"',
      'b: "123"',
      'c: "null"',
      'd: "x: y"',
      'e: "# no"',
      'f: ""',
      'g: "line\\nbreak"',
      'h: " pad"',
      'i: "-1"',
      "j: plain text",
      "",
    ].join("\n"),
  );
  assert.equal(toYaml({ "key with: colon": 1, yes: 2 }), '"key with: colon": 1\n"yes": 2\n');
});

test("non-finite numbers, top-level scalars, cycles", () => {
  assert.equal(toYaml({ a: NaN, b: Infinity, c: -Infinity }), "a: .nan\nb: .inf\nc: -.inf\n");
  assert.equal(toYaml("x"), "x\n");
  assert.equal(toYaml([]), "[]\n");
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => toYaml(loop), /circular/);
  // the same object twice (not a cycle) is fine
  const shared = { v: 1 };
  assert.equal(toYaml({ a: shared, b: shared }), "a:\n  v: 1\nb:\n  v: 1\n");
});
