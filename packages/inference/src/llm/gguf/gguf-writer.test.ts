import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GgmlType, GgufValueType, gguf, type GgufValue } from "./gguf-format.js";
import { readGgufHeader } from "./gguf-reader.js";
import { writeGguf, type GgufTensorSource } from "./gguf-writer.js";

function tensor(name: string, dims: number[], type: GgmlType, values: number[]): GgufTensorSource {
  return { name, dims, type, values: () => [Float32Array.from(values)] };
}

describe("writeGguf / readGgufHeader", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), "slipway-gguf-"))));
  after(() => rm(dir, { recursive: true, force: true }));

  const metadata: [string, GgufValue][] = [
    ["general.architecture", gguf.string("llama")],
    ["general.alignment", gguf.u32(64)],
    ["u8", { type: GgufValueType.UINT8, value: 200 }],
    ["i8", { type: GgufValueType.INT8, value: -5 }],
    ["u16", { type: GgufValueType.UINT16, value: 60000 }],
    ["i16", { type: GgufValueType.INT16, value: -30000 }],
    ["i32", { type: GgufValueType.INT32, value: -7 }],
    ["f32", gguf.f32(0.5)],
    ["bool", gguf.bool(true)],
    ["u64", gguf.u64(2n ** 40n)],
    ["i64", { type: GgufValueType.INT64, value: -(2n ** 40n) }],
    ["f64", { type: GgufValueType.FLOAT64, value: Math.PI }],
    ["utf8", gguf.string("héllo ✓")],
    ["strings", { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: ["a", "", "ü"] } }],
    ["ints", { type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT32, items: [1, -2, 3] } }],
    [
      "nested",
      {
        type: GgufValueType.ARRAY,
        value: {
          itemType: GgufValueType.ARRAY,
          items: [{ itemType: GgufValueType.UINT8, items: [1, 2] }],
        },
      },
    ],
  ];

  it("writes what it reads back: metadata with every value type, tensor infos, aligned data", async () => {
    const path = join(dir, "all.gguf");
    const written = await writeGguf({
      path,
      metadata,
      tensors: [
        tensor("a", [3], GgmlType.F32, [1, 2, 3]),
        tensor("b", [2, 2], GgmlType.F16, [1, -1, 0.5, 2]),
        tensor(
          "c",
          [32, 2],
          GgmlType.Q8_0,
          Array.from({ length: 64 }, (_, i) => (i % 32) - 16),
        ),
      ],
    });
    const bytes = await readFile(path);
    assert.equal(written.bytes, bytes.length);
    const header = readGgufHeader(bytes);
    assert.equal(header.version, 3);
    assert.equal(header.alignment, 64);
    assert.deepEqual([...header.metadata.entries()], metadata);
    assert.equal(header.dataOffset % 64, 0);
    assert.deepEqual(
      header.tensors.map((t) => [t.name, t.dims, t.type, t.offset]),
      [
        ["a", [3], GgmlType.F32, 0],
        ["b", [2, 2], GgmlType.F16, 64],
        ["c", [32, 2], GgmlType.Q8_0, 128],
      ],
    );
    const at = header.dataOffset;
    assert.deepEqual([bytes.readFloatLE(at), bytes.readFloatLE(at + 4), bytes.readFloatLE(at + 8)], [1, 2, 3]);
    assert.deepEqual([...bytes.subarray(at + 12, at + 64)], new Array<number>(52).fill(0)); // padding
    assert.equal(bytes.readUInt16LE(at + 64), 0x3c00);
    assert.equal(bytes.readInt8(at + 128 + 2), -127); // first Q8_0 value: -16 of max 16
    assert.equal(bytes.length, at + 256); // the last tensor is padded to the alignment too
  });

  it("refuses tensors whose values do not match their shape", async () => {
    await assert.rejects(
      writeGguf({ path: join(dir, "bad.gguf"), metadata: [], tensors: [tensor("x", [4], GgmlType.F32, [1, 2, 3])] }),
      /3 values, expected 4/,
    );
    await assert.rejects(
      writeGguf({ path: join(dir, "bad.gguf"), metadata: [], tensors: [tensor("x", [0], GgmlType.F32, [])] }),
      /bad dimensions/,
    );
  });

  it("rejects files that are not GGUF", () => {
    assert.throws(() => readGgufHeader(Buffer.from("GGML....")), /not a GGUF file/);
    assert.throws(() => readGgufHeader(Buffer.from("GGUF")), /truncated/);
  });
});
