/**
 * Seeded weights for test models: `@slipway/ml`'s `Random` (xoshiro128**, seeded through splitmix32), one
 * independent stream per tensor, so that the same seed writes the same model file on every machine and
 * Node version. Not for cryptography.
 */
import { Random } from "@slipway/ml";

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
  private readonly random: Random;

  /** `seed` and an optional `stream` (e.g. a hashed tensor name) select independent sequences. */
  constructor(seed: number, stream = 0) {
    this.random = new Random((Math.floor(seed) >>> 0) ^ Math.imul(stream >>> 0, 0x27d4eb2d));
  }

  /** Fills `out` with values uniform on [-limit, limit). */
  fillUniform(out: Float32Array, limit: number): void {
    const scale = (2 * limit) / 16777216;
    for (let i = 0; i < out.length; i++) out[i] = (this.random.nextUint32() >>> 8) * scale - limit;
  }
}
