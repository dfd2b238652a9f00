/** Assertions shared by `@slipway/ml`'s tests (not shipped: the package leaves out every `testing` folder). */
import assert from "node:assert/strict";
import { MlError } from "../core/errors.js";

/** `fn` throws an `MlError` whose message matches `message`. */
export function throwsMl(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof MlError && message.test(e.message));
}

/** Element-wise |actual − expected| ≤ tol · max(1, |expected|), with equal lengths. */
export function closeAll(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `[${i}]: ${a} vs ${e}`);
  }
}
