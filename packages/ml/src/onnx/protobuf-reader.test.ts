/**
 * Tests of the protobuf decoder on hand-made bytes: skipping unknown fields, and MlError (with the byte
 * offset) on truncated or malformed input instead of reading past the end.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MlError } from "../core/errors.js";
import { ProtoReader, decodeFields } from "./protobuf-reader.js";

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/ /g, ""), "hex"));

describe("ProtoReader", () => {
  it("decodes the protobuf documentation's examples", () => {
    assert.deepEqual(decodeFields(bytes("08 96 01")), [{ field: 1, wireType: 0, value: 150n }]);
    const [field] = decodeFields(bytes("12 07 74 65 73 74 69 6e 67"));
    assert.equal(field?.field, 2);
    assert.equal(Buffer.from(field?.value as Uint8Array).toString(), "testing");
    const packed = new ProtoReader(bytes("22 06 03 8e 02 9e a7 05"));
    assert.deepEqual(packed.key(), { field: 4, wireType: 2 });
    assert.deepEqual(packed.int64s(2), [3n, 270n, 86942n]);
  });

  it("skips fields of every wire type", () => {
    // field 1 varint, 2 fixed64, 3 bytes, 4 fixed32, then field 5 = 9
    const r = new ProtoReader(bytes("08 ff 01  11 0102030405060708  1a 02 aabb  25 01020304  28 09"));
    for (let i = 0; i < 4; i++) r.skip(r.key().wireType);
    assert.deepEqual(r.key(), { field: 5, wireType: 0 });
    assert.equal(r.uint64AsNumber(), 9);
    assert.ok(r.done());
  });

  it("reads a nested message through a sub-reader without consuming past it", () => {
    const r = new ProtoReader(bytes("1a 03 08 96 01  20 05"));
    r.key();
    const inner = r.message();
    assert.deepEqual(inner.key(), { field: 1, wireType: 0 });
    assert.equal(inner.uint64AsNumber(), 150);
    assert.ok(inner.done());
    assert.deepEqual(r.key(), { field: 4, wireType: 0 });
    assert.equal(r.uint64AsNumber(), 5);
  });

  it("works on a view into a larger buffer (byteOffset ≠ 0)", () => {
    const big = bytes("ffff 0d 0000803f ffff");
    const r = new ProtoReader(big.subarray(2, 7));
    r.key();
    assert.equal(r.float(), 1);
    assert.ok(r.done());
  });

  it("throws MlError on truncated input, naming the byte", () => {
    const cases: [string, (r: ProtoReader) => unknown, RegExp][] = [
      ["08", (r) => (r.key(), r.varint()), /truncated varint at byte 1/],
      ["08 96", (r) => (r.key(), r.uint64AsNumber()), /truncated varint at byte 1/],
      [
        "12 07 74 65",
        (r) => (r.key(), r.string()),
        /truncated length-delimited field at byte 2 \(needs 7 bytes, 2 left\)/,
      ],
      ["0d 0000", (r) => (r.key(), r.float()), /truncated float/],
      ["09 00", (r) => (r.key(), r.double()), /truncated double/],
      ["0a 03 000080", (r) => r.floats(r.key().wireType), /packed floats of 3 bytes/],
      ["08 ffffffffffffffffffff01", (r) => (r.key(), r.varint()), /varint longer than 10 bytes/],
      ["0b", (r) => r.key(), /unsupported wire type 3 \(field 1\)/],
      ["00", (r) => r.key(), /field number 0/],
      ["08 ffffffffffffffff7f", (r) => (r.key(), r.uint64AsNumber()), /too large for a number/],
    ];
    for (const [hex, read, message] of cases) {
      assert.throws(
        () => read(new ProtoReader(bytes(hex))),
        (error: unknown) => error instanceof MlError && message.test(error.message),
        `${hex} should fail with ${String(message)}`,
      );
    }
  });
});
