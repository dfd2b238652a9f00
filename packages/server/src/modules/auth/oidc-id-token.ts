/**
 * ID token verification with node:crypto alone (no JOSE dependency): a compact JWS signed with RSA (RS*, PS*) or
 * ECDSA (ES*), checked against the provider's keys, then the claims OpenID Connect Core §3.1.3.7 requires: iss,
 * aud (and azp when there are several audiences), exp and iat with a small clock skew, and the nonce we sent.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { Jwk, KeySource } from "./oidc-discovery.js";

/** Why a token was refused; `reason` is a short machine-readable word for the audit log. */
export class IdTokenError extends Error {
  override readonly name = "IdTokenError";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface AlgSpec {
  kty: "RSA" | "EC";
  hash: "sha256" | "sha384" | "sha512";
  pss?: boolean;
  crv?: string;
}

/** Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are refused by design. */
const ALGORITHMS: Record<string, AlgSpec> = {
  RS256: { kty: "RSA", hash: "sha256" },
  RS384: { kty: "RSA", hash: "sha384" },
  RS512: { kty: "RSA", hash: "sha512" },
  PS256: { kty: "RSA", hash: "sha256", pss: true },
  PS384: { kty: "RSA", hash: "sha384", pss: true },
  PS512: { kty: "RSA", hash: "sha512", pss: true },
  ES256: { kty: "EC", hash: "sha256", crv: "P-256" },
  ES384: { kty: "EC", hash: "sha384", crv: "P-384" },
  ES512: { kty: "EC", hash: "sha512", crv: "P-521" },
};

export const SUPPORTED_ID_TOKEN_ALGS: readonly string[] = Object.keys(ALGORITHMS);

export type IdTokenClaims = Record<string, unknown> & {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
};

export interface VerifyOptions {
  issuer: string;
  clientId: string;
  /** The nonce sent in the authorization request. */
  nonce: string;
  keys: KeySource;
  /** Algorithms the provider announced; intersected with the ones we implement. */
  allowedAlgs?: readonly string[];
  /** Seconds of clock difference tolerated (default 60). */
  clockSkewSeconds?: number;
  /** Now, in ms (tests). */
  now?: number;
  /** Refuse tokens issued longer ago than this, in seconds (default 600: a login takes minutes, not hours). */
  maxAgeSeconds?: number;
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new IdTokenError("malformed", `the ID token's ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new IdTokenError("malformed", `the ID token's ${what} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new IdTokenError("malformed", `the ID token's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function keyFor(jwk: Jwk, spec: AlgSpec): KeyObject | undefined {
  if (jwk.kty !== spec.kty) return undefined;
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (spec.crv !== undefined && jwk.crv !== spec.crv) return undefined;
  try {
    return createPublicKey({ key: jwk, format: "jwk" });
  } catch {
    return undefined;
  }
}

function signatureValid(spec: AlgSpec, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  if (spec.kty === "EC") return verify(spec.hash, input, { key, dsaEncoding: "ieee-p1363" }, signature);
  if (spec.pss) {
    return verify(spec.hash, input, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -1 }, signature);
  }
  return verify(spec.hash, input, key, signature);
}

/** Verifies the token's signature and claims; returns the claims or throws `IdTokenError`. */
export async function verifyIdToken(token: string, options: VerifyOptions): Promise<IdTokenClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new IdTokenError("malformed", "the ID token is not a signed JWT (three parts)");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart, "header");
  const alg = header.alg;
  const allowed = (options.allowedAlgs ?? SUPPORTED_ID_TOKEN_ALGS).filter((name) => name in ALGORITHMS);
  if (typeof alg !== "string" || !allowed.includes(alg)) {
    throw new IdTokenError(
      "bad_algorithm",
      `the ID token is signed with ${JSON.stringify(alg)}, which is not accepted`,
    );
  }
  if (header.crit !== undefined) throw new IdTokenError("malformed", "the ID token has critical header parameters");
  const spec = ALGORITHMS[alg]!;
  const kid = typeof header.kid === "string" ? header.kid : undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(signaturePart)) throw new IdTokenError("malformed", "the signature is not base64url");
  const signature = Buffer.from(signaturePart, "base64url");
  const input = Buffer.from(`${headerPart}.${payloadPart}`, "ascii");

  const candidates = (await options.keys.keysFor(kid))
    .filter((jwk) => jwk.alg === undefined || jwk.alg === alg)
    .map((jwk) => keyFor(jwk, spec))
    .filter((key): key is KeyObject => key !== undefined);
  if (candidates.length === 0) {
    throw new IdTokenError("unknown_key", `no ${alg} signing key ${kid ?? "(unnamed)"} is published by the provider`);
  }
  if (!candidates.some((key) => signatureValid(spec, key, input, signature))) {
    throw new IdTokenError("bad_signature", "the ID token's signature does not verify");
  }

  const claims = decodeSegment(payloadPart, "payload");
  checkClaims(claims, options);
  return claims as IdTokenClaims;
}

function checkClaims(claims: Record<string, unknown>, options: VerifyOptions): void {
  if (claims.iss !== options.issuer) {
    throw new IdTokenError(
      "wrong_issuer",
      `the ID token was issued by ${JSON.stringify(claims.iss)}, not ${options.issuer}`,
    );
  }
  if (typeof claims.sub !== "string" || claims.sub === "") {
    throw new IdTokenError("malformed", "the ID token has no subject (sub)");
  }
  const aud = claims.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(options.clientId)) {
    throw new IdTokenError("wrong_audience", `the ID token is meant for ${JSON.stringify(aud)}, not this client`);
  }
  // Core §3.1.3.7 (4, 5): with several audiences the authorized party must be present and be us.
  if ((audiences.length > 1 || claims.azp !== undefined) && claims.azp !== options.clientId) {
    throw new IdTokenError(
      "wrong_audience",
      `the ID token's authorized party is ${JSON.stringify(claims.azp)}, not this client`,
    );
  }
  const now = (options.now ?? Date.now()) / 1000;
  const skew = options.clockSkewSeconds ?? 60;
  if (typeof claims.exp !== "number" || typeof claims.iat !== "number") {
    throw new IdTokenError("malformed", "the ID token lacks exp or iat");
  }
  if (claims.exp <= now - skew) throw new IdTokenError("expired", "the ID token has expired");
  if (claims.iat > now + skew) throw new IdTokenError("not_yet_valid", "the ID token is issued in the future");
  if (claims.iat < now - skew - (options.maxAgeSeconds ?? 600)) {
    throw new IdTokenError("expired", "the ID token was issued too long ago");
  }
  if (typeof claims.nbf === "number" && claims.nbf > now + skew) {
    throw new IdTokenError("not_yet_valid", "the ID token is not valid yet (nbf)");
  }
  if (claims.nonce !== options.nonce) {
    throw new IdTokenError("nonce_mismatch", "the ID token's nonce is not the one this login sent");
  }
}
