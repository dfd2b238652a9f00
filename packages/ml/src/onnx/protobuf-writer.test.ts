/**
 * Tests of the protobuf encoder: exact bytes for known encodings (the protobuf documentation's classic
 * examples), and round trips through `ProtoReader` for every field kind, nested and packed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MlError } from "../core/errors.js";
import { Random } from "../core/random.js";
import { ProtoReader, decodeFields } from "./protobuf-reader.js";
import { ProtoWriter, WireType } from "./protobuf-writer.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("ProtoWriter: exact encodings", () => {
  it("writes varints as protobuf does (150 → 08 96 01, 300 → ac 02)", () => {
    assert.equal(hex(new ProtoWriter().uint64(1, 150).finish()), "089601");
    assert.equal(hex(new ProtoWriter().uint64(1, 300).finish()), "08ac02");
    assert.equal(hex(new ProtoWriter().uint64(1, 0).finish()), "0800");
    assert.equal(hex(new ProtoWriter().uint64(2, 2n ** 64n - 1n).finish()), "10ffffffffffffffffff01");
  });

  it("writes negative int64 and int32 as 10-byte two's complement", () => {
    assert.equal(hex(new ProtoWriter().int64(1, -1).finish()), "08ffffffffffffffffff01");
    assert.equal(hex(new ProtoWriter().int32(1, -2).finish()), "08feffffffffffffffff01");
    assert.equal(hex(new ProtoWriter().int64(1, -(2n ** 63n)).finish()), "0880808080808080808001");
  });

  it("writes strings as UTF-8 with a length (field 2, 'testing' → 12 07 74 65 73 74 69 6e 67)", () => {
    assert.equal(hex(new ProtoWriter().string(2, "testing").finish()), "120774657374696e67");
    assert.equal(hex(new ProtoWriter().string(1, "é").finish()), "0a02c3a9");
  });

  it("writes nested messages with their length (field 3 holding 150 → 1a 03 08 96 01)", () => {
    const bytes = new ProtoWriter().message(3, (m) => m.uint64(1, 150)).finish();
    assert.equal(hex(bytes), "1a03089601");
  });

  it("writes fixed32, fixed64, float and double little-endian", () => {
    assert.equal(hex(new ProtoWriter().fixed32(1, 1).finish()), "0d01000000");
    assert.equal(hex(new ProtoWriter().fixed64(1, 258n).finish()), "090201000000000000");
    assert.equal(hex(new ProtoWriter().float(1, 1).finish()), "0d0000803f");
    assert.equal(hex(new ProtoWriter().double(1, -2).finish()), "0900000000000000c0");
  });

  it("writes packed repeated values in one length-delimited field", () => {
    // the protobuf documentation's example: field 4 = [3, 270, 86942] → 22 06 03 8e 02 9e a7 05
    assert.equal(hex(new ProtoWriter().packedInt64s(4, [3, 270, 86942]).finish()), "2206038e029ea705");
    assert.equal(hex(new ProtoWriter().packedFloats(1, [1, -2]).finish()), "0a080000803f000000c0");
    assert.equal(hex(new ProtoWriter().packedDoubles(1, []).finish()), "0a00");
  });

  it("writes field numbers up to 2^29 − 1 and refuses invalid ones", () => {
    assert.equal(hex(new ProtoWriter().bool(536_870_911, true).finish()), "f8ffffff0f01");
    for (const field of [0, -1, 1.5, 536_870_912, 19000, 19999]) {
      assert.throws(() => new ProtoWriter().bool(field, true), MlError);
    }
  });

  it("refuses values that do not fit the field's type", () => {
    assert.throws(() => new ProtoWriter().uint64(1, -1), /not an unsigned integer/);
    assert.throws(() => new ProtoWriter().uint64(1, 2n ** 64n), /does not fit in a uint64/);
    assert.throws(() => new ProtoWriter().int64(1, 0.5), /not an integer/);
    assert.throws(() => new ProtoWriter().int64(1, 2n ** 63n), /does not fit in an int64/);
    assert.throws(() => new ProtoWriter().int32(1, 2 ** 31), /not an int32/);
    assert.throws(() => new ProtoWriter().fixed32(1, -1), /not a uint32/);
    assert.throws(() => new ProtoWriter().packedInt32s(1, [1, 2 ** 40]), /element 1/);
  });
});

describe("ProtoWriter → ProtoReader round trips", () => {
  it("reads back every scalar kind, in order", () => {
    const w = new ProtoWriter(16);
    w.uint64(1, 2 ** 53 - 1)
      .int64(2, -123456789012345n)
      .int32(3, -7)
      .bool(4, true)
      .fixed32(5, 0xdeadbeef)
      .fixed64(6, 2n ** 64n - 2n)
      .float(7, 0.1)
      .double(8, Math.PI)
      .string(9, "ℕ → ℝ")
      .bytes(10, new Uint8Array([0, 255, 7]));
    const r = new ProtoReader(w.finish());
    const next = (field: number, wireType: number): void => assert.deepEqual(r.key(), { field, wireType });
    next(1, WireType.varint);
    assert.equal(r.uint64AsNumber(), 2 ** 53 - 1);
    next(2, WireType.varint);
    assert.equal(r.int64(), -123456789012345n);
    next(3, WireType.varint);
    assert.equal(r.int64AsNumber(), -7);
    next(4, WireType.varint);
    assert.equal(r.bool(), true);
    next(5, WireType.fixed32);
    assert.equal(r.fixed32(), 0xdeadbeef);
    next(6, WireType.fixed64);
    assert.equal(r.fixed64(), 2n ** 64n - 2n);
    next(7, WireType.fixed32);
    assert.equal(r.float(), Math.fround(0.1));
    next(8, WireType.fixed64);
    assert.equal(r.double(), Math.PI);
    next(9, WireType.lengthDelimited);
    assert.equal(r.string(), "ℕ → ℝ");
    next(10, WireType.lengthDelimited);
    assert.deepEqual([...r.bytesField()], [0, 255, 7]);
    assert.ok(r.done());
  });

  it("reads back random varints of every size, as numbers and as bigints", () => {
    const random = new Random(7);
    const values: bigint[] = [];
    for (let i = 0; i < 2000; i++) {
      const bits = random.int(65);
      const hi = BigInt(random.nextUint32()) << 32n;
      values.push((hi | BigInt(random.nextUint32())) & ((1n << BigInt(bits)) - 1n));
    }
    const w = new ProtoWriter();
    values.forEach((v, i) => w.uint64((i % 100) + 1, v));
    const r = new ProtoReader(w.finish());
    values.forEach((v, i) => {
      assert.deepEqual(r.key(), { field: (i % 100) + 1, wireType: 0 });
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(r.uint64AsNumber(), Number(v));
      else assert.equal(r.varint(), v);
    });
    assert.ok(r.done());
  });

  it("reads back packed floats, doubles and int64s, including large arrays", () => {
    const random = new Random(11);
    const floats = Array.from({ length: 5000 }, () => random.normal() * 1e3);
    const doubles = Array.from({ length: 20000 }, () => random.normal() * 1e-3);
    const ints = Array.from({ length: 3000 }, () => Math.round((random.next() - 0.5) * 2 ** 52));
    const w = new ProtoWriter().packedFloats(1, floats).packedDoubles(2, doubles).packedInt64s(3, ints);
    const r = new ProtoReader(w.finish());
    assert.deepEqual(r.key(), { field: 1, wireType: 2 });
    assert.deepEqual(r.floats(2), floats.map(Math.fround));
    assert.deepEqual(r.key(), { field: 2, wireType: 2 });
    assert.deepEqual(r.doubles(2), doubles);
    assert.deepEqual(r.key(), { field: 3, wireType: 2 });
    assert.deepEqual(r.int64s(2).map(Number), ints);
    assert.ok(r.done());
  });

  it("reads unpacked repeated values too (one field per value)", () => {
    const w = new ProtoWriter().float(1, 1.5).float(1, 2.5).double(2, 3).int64(3, -4).int64(3, 5).uint64(4, 6);
    const r = new ProtoReader(w.finish());
    const floats: number[] = [];
    const doubles: number[] = [];
    const ints: bigint[] = [];
    const uints: bigint[] = [];
    while (!r.done()) {
      const { field, wireType } = r.key();
      if (field === 1) r.floats(wireType, floats);
      else if (field === 2) r.doubles(wireType, doubles);
      else if (field === 3) r.int64s(wireType, ints);
      else r.uint64s(wireType, uints);
    }
    assert.deepEqual(
      { floats, doubles, ints, uints },
      { floats: [1.5, 2.5], doubles: [3], ints: [-4n, 5n], uints: [6n] },
    );
  });

  it("nests messages of every length-prefix size (1 to 3 bytes) and moves the body into place", () => {
    for (const size of [0, 1, 127, 128, 300, 16383, 16384, 100_000]) {
      const payload = new Uint8Array(size).map((_, i) => (i * 31) % 256);
      const w = new ProtoWriter(8);
      w.uint64(1, 42)
        .message(2, (outer) => {
          outer.string(1, "inner");
          outer.message(2, (inner) => inner.bytes(3, payload));
          outer.uint64(4, size);
        })
        .uint64(3, 43);
      const fields = decodeFields(w.finish());
      assert.deepEqual(
        fields.map((f) => f.field),
        [1, 2, 3],
      );
      assert.deepEqual(fields[0], { field: 1, wireType: 0, value: 42n });
      assert.deepEqual(fields[2], { field: 3, wireType: 0, value: 43n });
      const outer = new ProtoReader(fields[1]?.value as Uint8Array);
      assert.deepEqual(outer.key(), { field: 1, wireType: 2 });
      assert.equal(outer.string(), "inner");
      assert.deepEqual(outer.key(), { field: 2, wireType: 2 });
      const inner = outer.message();
      assert.deepEqual(inner.key(), { field: 3, wireType: 2 });
      assert.deepEqual(inner.bytesField(), payload);
      assert.ok(inner.done());
      assert.deepEqual(outer.key(), { field: 4, wireType: 0 });
      assert.equal(outer.uint64AsNumber(), size);
      assert.ok(outer.done());
    }
  });

  it("finish() returns a copy, and the writer can go on", () => {
    const w = new ProtoWriter().uint64(1, 1);
    const first = w.finish();
    w.uint64(2, 2);
    assert.equal(hex(first), "0801");
    assert.equal(hex(w.finish()), "08011002");
    assert.equal(w.byteLength, 4);
  });
});
