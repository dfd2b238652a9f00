import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSnippets } from "./snippets.js";

test("runnable blocks are found in order with their attributes; other blocks are left alone", () => {
  const doc = [
    "# Chapter",
    "```sh runnable",
    "slipway experiments create --name demo",
    "```",
    "```text",
    "sample output, not run",
    "```",
    '```sh runnable background wait=http://127.0.0.1:8081/ping timeout=90 expect="listening on"',
    "slipway serve models:/spam@champion --port 8081",
    "```",
    "````ts runnable exit=1",
    "```nested fence stays code```",
    "````",
  ].join("\n");
  const snippets = parseSnippets(doc);
  assert.equal(snippets.length, 3);
  assert.deepEqual(
    snippets.map((s) => [s.language, s.line, s.background, s.exitCode, s.timeoutSeconds]),
    [
      ["sh", 2, false, 0, 60],
      ["sh", 8, true, 0, 90],
      ["ts", 11, false, 1, 60],
    ],
  );
  assert.equal(snippets[0]!.code, "slipway experiments create --name demo");
  assert.equal(snippets[1]!.waitFor, "http://127.0.0.1:8081/ping");
  assert.deepEqual(snippets[1]!.expect, ["listening on"]);
  assert.equal(snippets[2]!.code, "```nested fence stays code```");
});

test("malformed runnable blocks are refused with their line", () => {
  assert.throws(() => parseSnippets("```python runnable\nprint(1)\n```"), /line 1: runnable blocks are sh or ts/);
  assert.throws(() => parseSnippets("\n```sh runnable exit=one\ntrue\n```"), /line 2: exit=one is not a whole number/);
  assert.throws(() => parseSnippets("```sh runnable colour=red\ntrue\n```"), /unknown attribute 'colour'/);
  assert.throws(() => parseSnippets("```sh runnable wait=http://x/\ntrue\n```"), /only applies to background/);
  assert.throws(() => parseSnippets("```sh runnable\ntrue\n"), /never closed/);
  assert.throws(() => parseSnippets("```sh runnable needs=mysql\ntrue\n```"), /needs=mysql is not a known service/);
  assert.deepEqual(parseSnippets("```sh runnable needs=postgres,redis\ntrue\n```")[0]!.needs, ["postgres", "redis"]);
});
