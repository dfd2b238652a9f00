/**
 * 53-bit hashes of column values for distinct counting (`distinct-count.ts`). Two 32-bit lanes of a
 * MurmurHash3-style block mix (different seeds and constants) each end in the MurmurHash3 finalizer; 21
 * bits of the first and 32 of the second make a safe integer, so hashes are plain numbers, exact in JSON.
 * Strings are hashed as UTF-16 code units (two per 32-bit block): no encoding step, and the hash is the
 * same on every platform. Numbers hash their float64 bits (with -0 as 0), so `1` and `"1"` differ.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;
const TWO_POW_32 = 4294967296;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, C3);
  h ^= h >>> 13;
  h = Math.imul(h, C4);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The running state of the two lanes. */
interface Lanes {
  a: number;
  b: number;
}

function mixBlock(lanes: Lanes, block: number): void {
  let k = Math.imul(block, C1);
  k = rotl(k, 15);
  k = Math.imul(k, C2);
  lanes.a ^= k;
  lanes.a = (Math.imul(rotl(lanes.a, 13), 5) + 0xe6546b64) | 0;
  let j = Math.imul(block, C3);
  j = rotl(j, 17);
  j = Math.imul(j, C4);
  lanes.b ^= j;
  lanes.b = (Math.imul(rotl(lanes.b, 11), 9) + 0x38495ab5) | 0;
}

function combine(lanes: Lanes, length: number): number {
  const hi = finalize(lanes.a ^ length) >>> 11; // 21 bits
  const lo = finalize(lanes.b ^ Math.imul(length, 0x9e3779b1));
  return hi * TWO_POW_32 + lo;
}

const lanes: Lanes = { a: 0, b: 0 };

/** A 53-bit hash (a safe integer) of a string. */
export function hashString(text: string, seed = 0x2f1c5e77): number {
  lanes.a = seed;
  lanes.b = seed ^ 0x5bd1e995;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) mixBlock(lanes, text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
  if (i < n) mixBlock(lanes, text.charCodeAt(i));
  return combine(lanes, n);
}

/** A 53-bit hash (a safe integer) of a number's float64 bits. */
export function hashNumber(value: number, seed = 0x6a09e667): number {
  f64[0] = value === 0 ? 0 : value;
  lanes.a = seed;
  lanes.b = seed ^ 0x5bd1e995;
  mixBlock(lanes, u32[0]!);
  mixBlock(lanes, u32[1]!);
  return combine(lanes, 8);
}

/** A 53-bit hash of any column value: strings, numbers and booleans by value, anything else by its JSON text. */
export function hashValue(value: unknown): number {
  if (typeof value === "string") return hashString(value);
  if (typeof value === "number") return hashNumber(value);
  if (typeof value === "boolean") return hashNumber(value ? 1 : 0, 0x3c6ef372);
  return hashString(otherText(value), 0x510e527f);
}

function otherText(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  try {
    if (value instanceof Date) return value.toISOString();
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // a cycle, an invalid date
  }
}
