/**
 * Secrets for API tokens and UI sessions: 32 random bytes, base64url. They are random enough that a fast hash
 * (SHA-256) is the right way to store them: lookup is by hash, so a database read never reveals a usable secret.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/** The prefix of every API token, so secret scanners (and people) can recognise a leaked one. */
export const TOKEN_PREFIX = "slw_";
/** Characters of a token shown in listings to tell tokens apart (`slw_` and 8 more: 48 bits, not a secret). */
export const DISPLAY_PREFIX_LENGTH = 12;

export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function newToken(): { id: string; secret: string; prefix: string; hash: string } {
  const secret = TOKEN_PREFIX + newSecret();
  return { id: randomUUID(), secret, prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256(secret) };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Constant-time equality of two hex digests (the stored hash against the one just computed). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Whether text has the shape of a Slipway token (cheap check before touching the database). */
export function looksLikeToken(text: string): boolean {
  return text.startsWith(TOKEN_PREFIX) && /^[A-Za-z0-9_-]{40,60}$/.test(text.slice(TOKEN_PREFIX.length));
}

/** What the cookie is and what the UI reads from the session: the CSRF token derives from the cookie's secret. */
export function csrfTokenFor(sessionCookie: string): string {
  return createHash("sha256").update(`slipway-csrf:${sessionCookie}`).digest("base64url");
}
