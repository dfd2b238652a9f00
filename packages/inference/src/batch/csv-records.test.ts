import assert from "node:assert/strict";
import { test } from "node:test";
import { csvField, parseCsvRecords } from "./csv-records.js";

test("parses quoted fields, empty fields and line numbers; reports an unclosed quote", () => {
  const records = parseCsvRecords('1,"a, ""b""\nc",\n\n2,x"y,z\n3,"open', 7);
  assert.deepEqual(
    records.map((r) => [r.line, r.fields]),
    [
      [7, ["1", 'a, "b"\nc', ""]],
      [10, ["2", 'x"y', "z"]],
      [11, ["3", "open"]],
    ],
  );
  assert.match(records[2]!.problem!, /quoted field opened on line 11 is never closed/);
});

test("writes values as fields that read back the same", () => {
  const values = ["plain", "a,b", 'say "hi"', "two\nlines", " padded ", ""];
  const line = values.map(csvField).join(",");
  assert.deepEqual(parseCsvRecords(`${line}\n`, 1)[0]!.fields, values);
  assert.equal(csvField(null), "");
  assert.equal(csvField(Number.NaN), "");
  assert.equal(csvField(2n ** 63n - 1n), "9223372036854775807");
  assert.equal(csvField(true), "true");
  assert.equal(csvField([0.25, 0.75]), '"[0.25,0.75]"');
});
