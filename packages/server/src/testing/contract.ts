/** Test support shared by the contract suites: backends that may be absent, and MLflow error assertions. */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { MlflowError } from "@slipway/protocol";

/** Asserts that `p` rejects with an MlflowError of this code (and status and message, when given). */
export async function rejectsWith(p: Promise<unknown>, code: string, status?: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MlflowError, `expected MlflowError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

let counter = 0;
/** A name no other test of this process (or of a concurrent one) uses. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

/**
 * Opens a backend before the enclosing suite's tests and closes it after them. Its tests are skipped,
 * with the backend's own reason, when `make` reports the backend unavailable.
 */
export function backendSuite<S extends { cleanup(): Promise<void> }>(
  make: () => Promise<S | { skip: string }>,
): { test: (title: string, fn: () => Promise<void>) => void; subject: () => S } {
  let subject: S | undefined;
  let skip: string | undefined;
  before(async () => {
    const made = await make();
    if ("skip" in made) skip = made.skip;
    else subject = made;
  });
  after(async () => {
    await subject?.cleanup();
  });
  return {
    test: (title, fn) => {
      void it(title, async (t) => {
        if (skip) {
          t.skip(skip);
          return;
        }
        await fn();
      });
    },
    subject: () => subject!,
  };
}
