/**
 * Random ids for every request (request ids, completion ids, tool-call ids), drawn from a pool refilled
 * 4 KiB at a time: one `randomBytes` per id costs a getrandom(2) call each, about 30 µs under load on a
 * small VM, and a gateway makes two or three per request.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `bytes` fresh random bytes (at most 256), as base64url or hex. */
export function randomId(bytes: number, encoding: "base64url" | "hex" = "base64url"): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256) throw new RangeError(`randomId: ${bytes} bytes`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return id;
}
