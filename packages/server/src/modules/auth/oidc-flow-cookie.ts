/**
 * The transient state of one SSO login (state, PKCE verifier, nonce, where to go afterwards) kept in the browser
 * in a short-lived HttpOnly cookie, HMAC-signed so it cannot be edited. Keeping it client-side lets any replica
 * finish a login another one started (when they share the client secret the key derives from) and survives
 * restarts; a consumed-state list in memory stops a captured callback from being replayed against this process.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

export const FLOW_COOKIE = "slipway_oidc_flow";
/** Only the OIDC routes need it back. */
export const FLOW_COOKIE_PATH = "/api/2.0/slipway/auth/oidc";

export interface LoginFlow {
  state: string;
  verifier: string;
  nonce: string;
  returnTo: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Why a flow cookie was not accepted (for the audit log and the error page). */
export type FlowCookieProblem = "missing_flow" | "bad_flow_cookie" | "flow_expired";

export class FlowCookieCodec {
  private readonly key: Buffer;

  /** `secret`: the client secret when there is one (shared by replicas), else a key random to this process. */
  constructor(secret: string | undefined) {
    this.key =
      secret === undefined
        ? randomBytes(32)
        : Buffer.from(hkdfSync("sha256", secret, "slipway", "slipway oidc login flow cookie v1", 32));
  }

  encode(flow: LoginFlow): string {
    const body = Buffer.from(
      JSON.stringify({ s: flow.state, v: flow.verifier, n: flow.nonce, r: flow.returnTo, e: flow.expiresAt }),
    ).toString("base64url");
    return `${body}.${this.mac(body)}`;
  }

  decode(value: string | undefined, now = Date.now()): LoginFlow | FlowCookieProblem {
    if (value === undefined || value === "") return "missing_flow";
    const dot = value.indexOf(".");
    if (dot < 0) return "bad_flow_cookie";
    const body = value.slice(0, dot);
    const mac = Buffer.from(value.slice(dot + 1), "base64url");
    const expected = Buffer.from(this.mac(body), "base64url");
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return "bad_flow_cookie";
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return "bad_flow_cookie";
    }
    const p = parsed as { s?: unknown; v?: unknown; n?: unknown; r?: unknown; e?: unknown };
    if (
      typeof p.s !== "string" ||
      typeof p.v !== "string" ||
      typeof p.n !== "string" ||
      typeof p.r !== "string" ||
      typeof p.e !== "number"
    ) {
      return "bad_flow_cookie";
    }
    if (p.e <= now) return "flow_expired";
    return { state: p.s, verifier: p.v, nonce: p.n, returnTo: p.r, expiresAt: p.e };
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

/** Constant-time equality of two strings (the state from the URL against the one in the cookie). */
export function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * States already used, until their flows would have expired anyway. Bounded: past `limit` entries the oldest
 * go first (a flood of logins can at worst re-open replay for codes the provider itself refuses a second time).
 */
export class ConsumedStates {
  private readonly entries = new Map<string, number>();

  constructor(private readonly limit = 10_000) {}

  /** Marks the state used; false when it already was. */
  consume(state: string, expiresAt: number, now = Date.now()): boolean {
    for (const [key, expiry] of this.entries) {
      if (expiry > now && this.entries.size < this.limit) break;
      this.entries.delete(key);
    }
    if (this.entries.has(state)) return false;
    this.entries.set(state, expiresAt);
    return true;
  }
}

/** A same-origin relative path to return to after login; anything else (absolute, `//host`, `/\host`) is `/`. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string" || value === "" || value.length > 2048) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  try {
    const base = "http://slipway.invalid";
    const url = new URL(value, base);
    if (url.origin !== base) return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}
