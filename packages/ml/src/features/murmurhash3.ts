/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's `MurmurHash3_x86_32`), as scikit-learn's
 * `sklearn.utils.murmurhash3_32` computes it: strings are hashed as their UTF-8 bytes, the result is a
 * signed 32-bit integer unless `positive` is asked for. `HashingVectorizer` hashes every token with seed 0.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** MurmurHash3_x86_32 of `length` bytes of `bytes` (from index 0), as a signed 32-bit integer. */
function hashBytes(bytes: Uint8Array, length: number, seed: number): number {
  let h1 = seed | 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k1 =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    k1 = Math.imul(k1, C1);
    k1 = rotl32(k1, 15);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let k1 = 0;
    if (rest === 3) k1 ^= (bytes[blocks + 2] as number) << 16;
    if (rest >= 2) k1 ^= (bytes[blocks + 1] as number) << 8;
    k1 ^= bytes[blocks] as number;
    k1 = Math.imul(k1, C1);
    k1 = rotl32(k1, 15);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 | 0;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** The UTF-8 bytes of `text` in a reused buffer; returns how many were written. */
function encodeUtf8(text: string): number {
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  if (scratch.length < text.length * 3) scratch = new Uint8Array(Math.max(text.length * 3, scratch.length * 2));
  return encoder.encodeInto(text, scratch).written;
}

/**
 * MurmurHash3_x86_32 of a string (hashed as UTF-8; lone surrogates become U+FFFD as in `TextEncoder`) or of
 * raw bytes. Signed 32-bit by default, like `murmurhash3_32(key, seed)`; `positive` gives the unsigned value.
 */
export function murmurhash3_32(key: string | Uint8Array, seed = 0, positive = false): number {
  let h: number;
  if (typeof key === "string") {
    const length = encodeUtf8(key); // may replace `scratch`: read it only afterwards
    h = hashBytes(scratch, length, seed);
  } else {
    h = hashBytes(key, key.length, seed);
  }
  return positive ? h >>> 0 : h;
}
