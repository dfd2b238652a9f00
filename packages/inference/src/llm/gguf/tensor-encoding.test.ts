import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GgmlType } from "./gguf-format.js";
import { encodeTensorValues, fromHalf, toHalf } from "./tensor-encoding.js";

describe("toHalf", () => {
  it("encodes exact values, limits and specials as IEEE half precision", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up past the largest half: infinity
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // below half the smallest subnormal: zero
    ];
    for (const [value, bits] of cases) assert.equal(toHalf(value), bits, `toHalf(${value})`);
    assert.equal(toHalf(NaN) & 0x7c00, 0x7c00);
    assert.notEqual(toHalf(NaN) & 0x03ff, 0);
  });

  it("rounds to nearest, ties to even", () => {
    assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // halfway, even stays
    assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02); // halfway, odd rounds up
    assert.equal(toHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01); // above halfway
    assert.equal(toHalf(3 * 2 ** -25), 0x0002); // subnormal tie: 1.5 → 2
  });

  it("round-trips every half value", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0) continue; // NaNs
      assert.equal(toHalf(fromHalf(bits)), bits);
    }
  });
});

describe("encodeTensorValues", () => {
  it("writes F32 and F16 little-endian", () => {
    const out = Buffer.alloc(12);
    assert.equal(encodeTensorValues(GgmlType.F32, Float32Array.of(1.5, -2), out, 0), 8);
    assert.equal(out.readFloatLE(0), 1.5);
    assert.equal(out.readFloatLE(4), -2);
    assert.equal(encodeTensorValues(GgmlType.F16, Float32Array.of(1, -2), out, 8), 4);
    assert.equal(out.readUInt16LE(8), 0x3c00);
    assert.equal(out.readUInt16LE(10), 0xc000);
  });

  it("quantises Q8_0 blocks: an fp16 scale max|x|/127, then round(x/scale) as int8", () => {
    const values = new Float32Array(64);
    for (let i = 0; i < 32; i++) values[i] = (i - 16) / 16; // max |x| = 1
    values[32 + 5] = -0.25; // second block: one value, the rest 0
    const out = Buffer.alloc(68);
    assert.equal(encodeTensorValues(GgmlType.Q8_0, values, out, 0), 68);
    const d = fromHalf(out.readUInt16LE(0));
    assert.ok(Math.abs(d - 1 / 127) < 1e-5);
    for (let i = 0; i < 32; i++) {
      const expected = Math.sign(values[i]!) * Math.floor(Math.abs(values[i]! * 127) + 0.5);
      assert.equal(out.readInt8(2 + i), expected, `value ${i}`);
    }
    assert.equal(out.readInt8(2 + 0), -127);
    assert.ok(Math.abs(fromHalf(out.readUInt16LE(34)) - 0.25 / 127) < 1e-6);
    assert.equal(out.readInt8(36 + 5), -127);
    assert.equal(out.readInt8(36 + 6), 0);
  });

  it("encodes an all-zero Q8_0 block with scale 0", () => {
    const out = Buffer.alloc(34, 0xff);
    encodeTensorValues(GgmlType.Q8_0, new Float32Array(32), out, 0);
    assert.deepEqual([...out], new Array<number>(34).fill(0));
  });

  it("refuses Q8_0 data that is not whole blocks", () => {
    assert.throws(() => encodeTensorValues(GgmlType.Q8_0, new Float32Array(33), Buffer.alloc(100), 0), RangeError);
  });
});
