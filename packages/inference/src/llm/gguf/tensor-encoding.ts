/**
 * Tensor data encodings, byte for byte as ggml stores them (little-endian):
 *
 * - F32: 4 bytes per value; F16: IEEE half precision, rounded to nearest even;
 * - Q8_0: blocks of 32 values, each an fp16 scale `d = max|x| / 127` followed by 32 int8 `round(x / d)`
 *   (rounded half away from zero, as C's `roundf`), the reference quantisation of llama.cpp.
 */
import { GgmlType, Q8_0_BLOCK, Q8_0_BLOCK_BYTES, tensorBytes } from "./gguf-format.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE 754 half-precision bits of `value` (round to nearest, ties to even). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // a carry out of the mantissa correctly bumps the exponent (up to infinity)
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** The value of half-precision bits (for tests and readers). */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function roundHalfAway(v: number): number {
  return v >= 0 ? Math.floor(v + 0.5) : -Math.floor(-v + 0.5);
}

/**
 * Encodes `values` in `type` into `out` at `offset`; returns the number of bytes written.
 * Q8_0 needs a whole number of 32-value blocks.
 */
export function encodeTensorValues(type: GgmlType, values: Float32Array, out: Buffer, offset: number): number {
  const bytes = tensorBytes(type, values.length);
  if (offset + bytes > out.length) throw new RangeError("encodeTensorValues: output buffer too small");
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, offset + i * 4);
      break;
    case GgmlType.F16:
      for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalf(values[i]!), offset + i * 2);
      break;
    case GgmlType.Q8_0: {
      // direct stores: Buffer's checked writers are several times slower, and a 0.5B model has 500M values
      const int8 = new Int8Array(out.buffer, out.byteOffset, out.byteLength);
      let pos = offset;
      for (let b = 0; b < values.length; b += Q8_0_BLOCK) {
        let amax = 0;
        for (let i = b; i < b + Q8_0_BLOCK; i++) {
          const a = Math.abs(values[i]!);
          if (a > amax) amax = a;
        }
        const d = amax / 127;
        const id = d === 0 ? 0 : 1 / d;
        const half = toHalf(d);
        out[pos] = half & 0xff;
        out[pos + 1] = half >>> 8;
        for (let i = 0; i < Q8_0_BLOCK; i++) int8[pos + 2 + i] = roundHalfAway(values[b + i]! * id);
        pos += Q8_0_BLOCK_BYTES;
      }
      break;
    }
  }
  return bytes;
}
