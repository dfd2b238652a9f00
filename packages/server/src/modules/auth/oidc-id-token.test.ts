/**
 * ID token verification with tokens this test signs itself, for the cases a well-behaved provider never
 * produces: wrong audience, missing azp, wrong nonce, expired, forged signature, alg "none"/HS256, unknown key.
 * Key rotation is tried against a real HTTP JWKS endpoint.
 */
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { RemoteJwks, type Jwk, type KeySource } from "./oidc-discovery.js";
import { IdTokenError, verifyIdToken, type VerifyOptions } from "./oidc-id-token.js";

const ISSUER = "https://id.example.com";
const CLIENT = "slipway-ui";
const NONCE = "n-0S6_WzA2Mj";

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Jwk;
}

function rsaKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, use: "sig" } };
}

function ecKey(kid: string, namedCurve = "P-256"): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid } };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function signToken(
  key: TestKey,
  claims: Record<string, unknown>,
  options: { alg?: string; header?: Record<string, unknown> } = {},
): string {
  const alg = options.alg ?? (key.jwk.kty === "EC" ? "ES256" : "RS256");
  const input = `${b64({ alg, kid: key.kid, typ: "JWT", ...options.header })}.${b64(claims)}`;
  const hash = `sha${alg.slice(2)}`;
  const signature = alg.startsWith("ES")
    ? sign(hash, Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" })
    : alg.startsWith("PS")
      ? sign(hash, Buffer.from(input), { key: key.privateKey, padding: 6, saltLength: 32 })
      : sign(hash, Buffer.from(input), key.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, sub: "248289761001", aud: CLIENT, exp: now + 300, iat: now, nonce: NONCE, ...overrides };
}

function fixed(keys: TestKey[]): KeySource {
  return {
    keysFor: (kid) => Promise.resolve(keys.map((key) => key.jwk).filter((jwk) => kid === undefined || jwk.kid === kid)),
  };
}

async function refused(token: string, options: VerifyOptions, reason: string): Promise<void> {
  await assert.rejects(verifyIdToken(token, options), (error: unknown) => {
    assert.ok(error instanceof IdTokenError, String(error));
    assert.equal(error.reason, reason, error.message);
    return true;
  });
}

describe("verifyIdToken", () => {
  const rsa = rsaKey("rsa-1");
  const ec = ecKey("ec-1");
  const other = rsaKey("rsa-1");
  const options: VerifyOptions = { issuer: ISSUER, clientId: CLIENT, nonce: NONCE, keys: fixed([rsa, ec]) };

  it("accepts RS256, ES256 and PS256 tokens and returns their claims", async () => {
    const verified = await verifyIdToken(signToken(rsa, claims({ email: "a@example.com" })), options);
    assert.equal(verified.sub, "248289761001");
    assert.equal(verified.email, "a@example.com");
    assert.equal((await verifyIdToken(signToken(ec, claims()), options)).iss, ISSUER);
    assert.equal((await verifyIdToken(signToken(rsa, claims(), { alg: "PS256" }), options)).aud, CLIENT);
    const p384 = ecKey("ec-384", "P-384");
    const token = signToken(p384, claims(), { alg: "ES384" });
    assert.equal((await verifyIdToken(token, { ...options, keys: fixed([p384]) })).sub, "248289761001");
  });

  it("accepts several audiences when azp names this client", async () => {
    const token = signToken(rsa, claims({ aud: [CLIENT, "api://other"], azp: CLIENT }));
    assert.deepEqual((await verifyIdToken(token, options)).aud, [CLIENT, "api://other"]);
  });

  it("refuses a token for another audience", async () => {
    await refused(signToken(rsa, claims({ aud: "someone-else" })), options, "wrong_audience");
    await refused(signToken(rsa, claims({ aud: ["someone-else", "x"] })), options, "wrong_audience");
  });

  it("refuses several audiences without azp, and an azp that is not this client", async () => {
    await refused(signToken(rsa, claims({ aud: [CLIENT, "api://other"] })), options, "wrong_audience");
    await refused(signToken(rsa, claims({ aud: [CLIENT, "x"], azp: "x" })), options, "wrong_audience");
    await refused(signToken(rsa, claims({ azp: "x" })), options, "wrong_audience");
  });

  it("refuses a wrong or missing nonce", async () => {
    await refused(signToken(rsa, claims({ nonce: "replayed-from-another-login" })), options, "nonce_mismatch");
    await refused(signToken(rsa, claims({ nonce: undefined })), options, "nonce_mismatch");
  });

  it("refuses another issuer, a missing subject", async () => {
    await refused(signToken(rsa, claims({ iss: "https://evil.example.com" })), options, "wrong_issuer");
    await refused(signToken(rsa, claims({ sub: "" })), options, "malformed");
  });

  it("checks exp and iat with a small clock skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(signToken(rsa, claims({ exp: now - 61 })), options, "expired");
    await verifyIdToken(signToken(rsa, claims({ exp: now - 30 })), options);
    await refused(signToken(rsa, claims({ iat: now + 120 })), options, "not_yet_valid");
    await verifyIdToken(signToken(rsa, claims({ iat: now + 30 })), options);
    await refused(signToken(rsa, claims({ iat: now - 3600, exp: now + 3600 })), options, "expired");
    await refused(signToken(rsa, claims({ nbf: now + 300 })), options, "not_yet_valid");
    await refused(signToken(rsa, claims({ exp: "soon" })), options, "malformed");
  });

  it("refuses a signature by another key with the same key id, and an edited payload", async () => {
    await refused(signToken(other, claims()), options, "bad_signature");
    const [header, , signature] = signToken(rsa, claims()).split(".");
    const edited = `${header}.${b64(claims({ sub: "admin" }))}.${signature}`;
    await refused(edited, options, "bad_signature");
  });

  it("refuses alg none, HMAC with a public key as secret, and algorithms the provider did not announce", async () => {
    const none = `${b64({ alg: "none" })}.${b64(claims())}.`;
    await refused(none, options, "bad_algorithm");
    const input = `${b64({ alg: "HS256", kid: "rsa-1" })}.${b64(claims())}`;
    const hmac = createHmac("sha256", JSON.stringify(rsa.jwk)).update(input).digest("base64url");
    await refused(`${input}.${hmac}`, options, "bad_algorithm");
    await refused(signToken(ec, claims()), { ...options, allowedAlgs: ["RS256"] }, "bad_algorithm");
    // an RSA key cannot verify an ES256 header even when the kid points at it
    await refused(signToken(ec, claims(), { header: { kid: "rsa-1" } }), options, "unknown_key");
  });

  it("refuses a key id nobody published, and garbage", async () => {
    await refused(signToken(rsaKey("rsa-9"), claims()), options, "unknown_key");
    await refused("not.a.jwt.at.all", options, "malformed");
    await refused("abc", options, "malformed");
    await refused(`${b64({ alg: "RS256", kid: "rsa-1" })}.%%%.${"A".repeat(10)}`, options, "bad_signature");
    await refused(`${b64({ alg: "RS256", crit: ["exp"] })}.${b64(claims())}.AAAA`, options, "malformed");
  });
});

describe("RemoteJwks", () => {
  let server: Server;
  let url: string;
  let published: Jwk[] = [];
  let fetches = 0;

  before(async () => {
    server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("fetches once, refetches on an unknown key id (rotation), and not more often than allowed", async () => {
    const first = rsaKey("k1");
    const second = rsaKey("k2");
    published = [first.jwk];
    const jwks = new RemoteJwks(url, 0);
    const options: VerifyOptions = { issuer: ISSUER, clientId: CLIENT, nonce: NONCE, keys: jwks };
    await verifyIdToken(signToken(first, claims()), options);
    await verifyIdToken(signToken(first, claims()), options);
    assert.equal(fetches, 1, "cached");
    published = [first.jwk, second.jwk];
    await verifyIdToken(signToken(second, claims()), options);
    assert.equal(fetches, 2, "refetched for the new key id");

    const throttled = new RemoteJwks(url, 60_000);
    await throttled.keysFor("k1");
    const before = fetches;
    assert.deepEqual(await throttled.keysFor("made-up-1"), []);
    assert.deepEqual(await throttled.keysFor("made-up-2"), []);
    assert.equal(fetches, before, "unknown key ids do not refetch within the minimum interval");
  });
});
