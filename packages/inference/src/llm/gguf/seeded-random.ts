/**
 * A small, fast, seeded pseudo-random generator (xoshiro128**, seeded through splitmix32), so that the
 * same seed writes the same model file on every machine and Node version. Not for cryptography.
 */

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a string: mixes a tensor's name into its generator's seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` and an optional `stream` (e.g. a hashed tensor name) select independent sequences. */
  constructor(seed: number, stream = 0) {
    const mix = splitmix32((Math.floor(seed) >>> 0) ^ Math.imul(stream >>> 0, 0x27d4eb2d));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Fills `out` with values uniform on [-limit, limit). */
  fillUniform(out: Float32Array, limit: number): void {
    const scale = (2 * limit) / 16777216;
    for (let i = 0; i < out.length; i++) out[i] = (this.nextU32() >>> 8) * scale - limit;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
