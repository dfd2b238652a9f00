import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeQuery, toSearchParams } from "./query-string.js";

test("scalars become one key each, in order", () => {
  assert.equal(
    encodeQuery({ run_id: "abc", metric_key: "loss", max_results: 25000 }),
    "?run_id=abc&metric_key=loss&max_results=25000",
  );
});

test("arrays become repeated keys", () => {
  const params = toSearchParams({ run_ids: ["a", "b", "c"], metric_key: "m" });
  assert.deepEqual(params.getAll("run_ids"), ["a", "b", "c"]);
  assert.equal(params.toString(), "run_ids=a&run_ids=b&run_ids=c&metric_key=m");
});

test("booleans are spelled true/false", () => {
  assert.equal(encodeQuery({ allow_partial: true, archive: false }), "?allow_partial=true&archive=false");
});

test("undefined and null fields are left out; nothing to send gives the empty string", () => {
  assert.equal(encodeQuery({ run_id: undefined, path: null }), "");
  assert.equal(encodeQuery({}), "");
  assert.equal(encodeQuery({ a: undefined, b: "x" }), "?b=x");
});

test("values are percent-encoded", () => {
  const text = encodeQuery({ experiment_name: "my exp/ü&x=1", filter: "tags.\"a\" = 'b'" });
  const back = new URLSearchParams(text.slice(1));
  assert.equal(back.get("experiment_name"), "my exp/ü&x=1");
  assert.equal(back.get("filter"), "tags.\"a\" = 'b'");
  assert.ok(!text.includes("&x=1"));
});

test("non-finite numbers use MLflow's spelling; nested objects are refused", () => {
  assert.equal(encodeQuery({ a: NaN, b: Infinity, c: -Infinity }), "?a=NaN&b=Infinity&c=-Infinity");
  assert.throws(() => encodeQuery({ nested: { x: 1 } }), TypeError);
});
