import { test } from "node:test";
import assert from "node:assert/strict";
import { murmurhash3_32 } from "./murmurhash3.js";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

// Published MurmurHash3_x86_32 test vectors (the widely used set from
// https://stackoverflow.com/questions/14747343/murmurhash3-test-vectors, as in Boost.Hash2's murmur3 tests).
test("published MurmurHash3_x86_32 vectors (bytes, unsigned)", () => {
  const vectors: [Uint8Array, number, number][] = [
    [bytes(), 0, 0],
    [bytes(), 1, 0x514e28b7],
    [bytes(), 0xffffffff, 0x81f16f39],
    [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
    [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
    [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
    [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
    [bytes(0x21, 0x43), 0, 0xa0f7b07a],
    [bytes(0x21), 0, 0x72661cf4],
    [bytes(0, 0, 0, 0), 0, 0x2362f9de],
    [bytes(0, 0, 0), 0, 0x85f0b427],
    [bytes(0, 0), 0, 0x30f4c306],
    [bytes(0), 0, 0x514e28b7],
  ];
  for (const [key, seed, expected] of vectors) {
    assert.equal(murmurhash3_32(key, seed, true), expected, `key ${String(Array.from(key))} seed ${seed}`);
  }
});

test("published vectors on strings", () => {
  assert.equal(murmurhash3_32("Hello, world!", 1234, true), 0xfaf6cdb3);
  assert.equal(murmurhash3_32("Hello, world!", 4321, true), 0xbf505788);
});

// scikit-learn's own tests (sklearn/utils/tests/test_murmurhash.py).
test("scikit-learn murmurhash3_32 values: signed and positive", () => {
  assert.equal(murmurhash3_32("foo", 0), -156908512);
  assert.equal(murmurhash3_32("foo", 42), -1322301282);
  assert.equal(murmurhash3_32("foo", 0, true), 4138058784);
  assert.equal(murmurhash3_32("foo", 42, true), 2972666014);
  // An int key is hashed as its 4 little-endian bytes.
  assert.equal(murmurhash3_32(bytes(3, 0, 0, 0), 0), 847579505);
  assert.equal(murmurhash3_32(bytes(3, 0, 0, 0), 42), -1823081949);
  assert.equal(murmurhash3_32(bytes(3, 0, 0, 0), 42, true), 2471885347);
});

test("strings are hashed as UTF-8, including astral characters", () => {
  const encoder = new TextEncoder();
  for (const text of ["café", "日本語", "😀", "x".repeat(1000), ""]) {
    assert.equal(murmurhash3_32(text), murmurhash3_32(encoder.encode(text)));
  }
});

test("no collisions on growing runs of spaces (as sklearn's test)", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const h = murmurhash3_32(" ".repeat(i));
    assert.ok(!seen.has(h));
    seen.add(h);
  }
});
