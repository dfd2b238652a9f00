/**
 * Verifying Slipway's registry webhooks. Each delivery carries `X-Slipway-Timestamp` (unix seconds) and, when
 * the webhook has a secret, `X-Slipway-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<raw body>`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Whether `header` (the `X-Slipway-Signature` value) is the signature of `rawBody` sent at `timestamp` (the
 * `X-Slipway-Timestamp` value) with `secret`. Pass the body exactly as received, before any JSON parsing. The
 * comparison takes constant time. Check the timestamp's age separately to refuse replays.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  rawBody: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (typeof header !== "string") return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (match?.[1] === undefined) return false;
  const expected = createHmac("sha256", secret)
    .update(`${String(timestamp)}.`)
    .update(rawBody)
    .digest();
  const given = Buffer.from(match[1], "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
