import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCsv } from "./csv.js";

describe("parseCsv", () => {
  it("reads a header and rows, with quoted fields, CRLF, blank lines and no trailing newline", () => {
    const table = parseCsv('text,n\r\n"free, money",1\r\n"say ""hi""",2\n\n');
    assert.equal(table.rows, 2);
    assert.deepEqual(table.columns.get("text"), ["free, money", 'say "hi"']);
    assert.deepEqual(parseCsv("a\n1").columns.get("a"), ["1"]);
    assert.deepEqual(parseCsv('a\n"line\nbreak"\n').columns.get("a"), ["line\nbreak"]);
  });

  it("refuses malformed tables, naming the row", () => {
    assert.throws(() => parseCsv(""), /The CSV input is empty/);
    assert.throws(() => parseCsv("a,a\n1,2\n"), /names column 'a' twice/);
    assert.throws(() => parseCsv("a,b\n1\n"), /CSV row 1 \(line 2\) has 1 field where the header has 2/);
    assert.throws(() => parseCsv('a\n"open\n'), /unterminated quoted field/);
    assert.throws(() => parseCsv('a\n"x"y\n'), /text after a closing quote/);
  });
});
