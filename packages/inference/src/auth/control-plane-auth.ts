/**
 * Asks the control plane who a caller is (`--auth control-plane`): the caller's `Authorization` header
 * (Basic or Bearer, as MLflow's clients send it) goes verbatim to
 * `GET {tracking-uri}/api/2.0/slipway/auth/whoami[?registered_model_name=NAME]`, which answers 200 with the
 * user and their permission on that registered model, or 401.
 *
 * Answers are cached, keyed by the SHA-256 of the header (the header itself is never kept) and the model:
 * allowed for 30 s, refused for 5 s (so a revoked token stops working within 30 s, and a typo is not
 * retried against the control plane in a loop), in a bounded LRU. Concurrent checks of the same key share
 * one call. The control plane unreachable, slow or answering anything unexpected is a 503 — never an allow,
 * and never cached.
 */
import { createHash } from "node:crypto";
import { DataPlaneAuthError } from "./auth-errors.js";
import { TtlLruCache } from "./lru-cache.js";

/** MLflow's permission names, weakest first (mirrors the control plane's auth-api.ts). */
export const PERMISSION_NAMES = ["NO_PERMISSIONS", "READ", "EDIT", "MANAGE"] as const;
export type PermissionName = (typeof PERMISSION_NAMES)[number];

export const WHOAMI_PATH = "/api/2.0/slipway/auth/whoami";

export interface ControlPlaneUser {
  id: number;
  username: string;
  isAdmin: boolean;
  kind: string;
}

export interface ControlPlaneIdentity {
  user: ControlPlaneUser;
  /** The permission on the registered model asked about; undefined when none was asked about. */
  permission: PermissionName | undefined;
}

export interface ControlPlaneAuthOptions {
  /** The control plane's base URL (`--tracking-uri`). */
  trackingUri: string;
  /** How long an allowed caller is remembered (default 30 s). */
  positiveTtlMs?: number;
  /** How long a refused one is (default 5 s). */
  negativeTtlMs?: number;
  /** Most cached answers (default 10,000). */
  cacheSize?: number;
  /** Per whoami call (default 5 s). */
  timeoutMs?: number;
}

type Outcome = { ok: true; identity: ControlPlaneIdentity } | { ok: false; error: DataPlaneAuthError };

export class ControlPlaneAuth {
  readonly whoamiUrl: string;
  private readonly cache: TtlLruCache<Outcome>;
  private readonly pending = new Map<string, Promise<Outcome>>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly timeoutMs: number;
  /** whoami calls made (cache misses), for tests and logs. */
  calls = 0;

  constructor(options: ControlPlaneAuthOptions) {
    const url = new URL(options.trackingUri);
    url.pathname = url.pathname.replace(/\/+$/, "") + WHOAMI_PATH;
    url.search = "";
    this.whoamiUrl = url.toString();
    this.cache = new TtlLruCache(options.cacheSize ?? 10_000);
    this.positiveTtlMs = options.positiveTtlMs ?? 30_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /**
   * The caller behind `authorization`; with `registeredModel`, one that holds at least READ on it.
   * Throws `DataPlaneAuthError`: unauthenticated (401), forbidden (below READ) or unavailable.
   */
  async check(authorization: string, registeredModel?: string): Promise<ControlPlaneIdentity> {
    const key = cacheKey(authorization, registeredModel);
    let outcome = this.cache.get(key);
    if (outcome === undefined) {
      let call = this.pending.get(key);
      if (call === undefined) {
        call = this.ask(authorization, registeredModel).finally(() => this.pending.delete(key));
        this.pending.set(key, call);
      }
      outcome = await call;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.identity;
  }

  private async ask(authorization: string, registeredModel: string | undefined): Promise<Outcome> {
    const url = new URL(this.whoamiUrl);
    if (registeredModel !== undefined) url.searchParams.set("registered_model_name", registeredModel);
    this.calls++;
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(url, {
        headers: { authorization, accept: "application/json" },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      throw new DataPlaneAuthError(
        "unavailable",
        `The control plane at ${url.origin} could not be reached to check the credentials (${(error as Error).message}); retry later`,
        { cause: error },
      );
    }
    if (response.status === 401) {
      const message = (body as { message?: unknown } | undefined)?.message;
      return this.remember(authorization, registeredModel, {
        ok: false,
        error: new DataPlaneAuthError(
          "unauthenticated",
          typeof message === "string" && message !== "" ? message : "Invalid credentials",
        ),
      });
    }
    if (response.status !== 200) {
      throw new DataPlaneAuthError(
        "unavailable",
        response.status === 404
          ? `The control plane at ${url.origin} does not answer ${WHOAMI_PATH} (is it started with --auth?)`
          : `The control plane at ${url.origin} answered ${response.status} while checking the credentials; retry later`,
      );
    }
    const identity = parseWhoami(body, registeredModel !== undefined);
    if (identity === undefined) {
      throw new DataPlaneAuthError(
        "unavailable",
        `The control plane at ${url.origin} answered ${WHOAMI_PATH} with an unexpected body`,
      );
    }
    if (registeredModel !== undefined && !permissionAtLeast(identity.permission, "READ")) {
      return this.remember(authorization, registeredModel, {
        ok: false,
        error: new DataPlaneAuthError(
          "forbidden",
          `User '${identity.user.username}' does not have READ permission on registered model '${registeredModel}'`,
        ),
      });
    }
    return this.remember(authorization, registeredModel, { ok: true, identity });
  }

  private remember(authorization: string, registeredModel: string | undefined, outcome: Outcome): Outcome {
    this.cache.set(
      cacheKey(authorization, registeredModel),
      outcome,
      outcome.ok ? this.positiveTtlMs : this.negativeTtlMs,
    );
    return outcome;
  }
}

/** The header's hash (never the header) and the model asked about. */
function cacheKey(authorization: string, registeredModel: string | undefined): string {
  return `${createHash("sha256").update(authorization, "utf8").digest("base64")}\n${registeredModel ?? ""}`;
}

export function permissionAtLeast(permission: PermissionName | undefined, wanted: PermissionName): boolean {
  return permission !== undefined && PERMISSION_NAMES.indexOf(permission) >= PERMISSION_NAMES.indexOf(wanted);
}

function parseWhoami(body: unknown, wantsPermission: boolean): ControlPlaneIdentity | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { user, registered_model_permission: permission } = body as Record<string, unknown>;
  if (typeof user !== "object" || user === null) return undefined;
  const u = user as Record<string, unknown>;
  if (typeof u.id !== "number" || typeof u.username !== "string" || typeof u.is_admin !== "boolean") return undefined;
  let parsed: PermissionName | undefined;
  if (wantsPermission) {
    if (!(PERMISSION_NAMES as readonly unknown[]).includes(permission)) return undefined;
    parsed = permission as PermissionName;
  }
  return {
    user: { id: u.id, username: u.username, isAdmin: u.is_admin, kind: typeof u.kind === "string" ? u.kind : "user" },
    permission: parsed,
  };
}
