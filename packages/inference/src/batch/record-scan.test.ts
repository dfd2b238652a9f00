import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseCsvRecords } from "./csv-records.js";
import { parseJsonlRecords } from "./jsonl-records.js";
import { scanRecords } from "./record-scan.js";

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

test("CSV: quoted line breaks, doubled quotes, CRLF and lone CR end records where the parser does", () => {
  const text = 'a,"x\ny"\r\nb,"say ""hi"""\rc,plain\n\n\nd,"last"';
  const whole = scanRecords("csv", bytes(text), 0, 100, true);
  assert.equal(whole.rows, 4);
  assert.equal(whole.end, Buffer.byteLength(text));
  assert.equal(parseCsvRecords(text, 1).length, 4);
  // without the end of the file, the last record is not known to be complete
  assert.equal(scanRecords("csv", bytes(text), 0, 100, false).rows, 3);
  // at most maxRows, ending just past the record
  const two = scanRecords("csv", bytes(text), 0, 2, true);
  assert.equal(two.rows, 2);
  assert.equal(Buffer.from(text).subarray(two.end).toString(), 'c,plain\n\n\nd,"last"');
});

test("CSV: a quote that is not at the start of a field is text; a CR at the buffer's end waits for more", () => {
  const text = 'a,b"c\nd,e\n';
  assert.equal(scanRecords("csv", bytes(text), 0, 10, true).rows, 2);
  assert.deepEqual(parseCsvRecords(text, 1)[0]!.fields, ["a", 'b"c']);
  assert.equal(scanRecords("csv", bytes("a,b\r"), 0, 10, false).rows, 0);
  assert.equal(scanRecords("csv", bytes("a,b\r"), 0, 10, true).rows, 1);
  assert.equal(scanRecords("csv", bytes('a,"b"'), 0, 10, false).rows, 0);
});

test("JSON Lines: blank lines are not rows; a last line without a newline counts at the end", () => {
  const text = '{"a":1}\n  \n\r\n{"a":2}\n{"a":3}';
  const scan = scanRecords("jsonl", bytes(text), 0, 100, true);
  assert.equal(scan.rows, 3);
  assert.equal(scan.lines, 4);
  assert.equal(scanRecords("jsonl", bytes(text), 0, 100, false).rows, 2);
  assert.deepEqual(
    parseJsonlRecords(text, 10).map((r) => r.line),
    [10, 13, 14],
  );
});

const field = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '""', ",", "\n", "\r\n", "é", "a b", ' "q" '));

test("CSV scanned in pieces cuts the same records as parsed at once (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 4 }),
      (rows, pieces, maxRows) => {
        const text =
          rows
            .map((r) => r.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(","))
            .join("\n") + "\n";
        const all = bytes(text);
        const expected = parseCsvRecords(text, 1).map((r) => r.fields);
        // feed the bytes in pieces, cutting blocks of at most maxRows rows as the reader does
        const found: string[][] = [];
        let buffer = new Uint8Array(0);
        let at = 0;
        let p = 0;
        for (;;) {
          const size = pieces[p++ % pieces.length]!;
          const next = all.subarray(at, at + size);
          at += next.length;
          const final = at >= all.length;
          const merged = new Uint8Array(buffer.length + next.length);
          merged.set(buffer);
          merged.set(next, buffer.length);
          buffer = merged;
          for (;;) {
            const scan = scanRecords("csv", buffer, 0, maxRows, final);
            if (scan.rows === 0 && !(final && scan.end > 0)) break;
            const records = parseCsvRecords(Buffer.from(buffer.subarray(0, scan.end)).toString("utf8"), 1);
            assert.equal(records.length, scan.rows);
            found.push(...records.map((r) => r.fields));
            buffer = buffer.subarray(scan.end);
            if (buffer.length === 0) break;
          }
          if (final) break;
        }
        assert.deepEqual(found, expected);
      },
    ),
    { numRuns: 300 },
  );
});
