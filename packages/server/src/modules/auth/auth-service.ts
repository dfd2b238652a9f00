/**
 * AuthService: users, passwords, API tokens, UI sessions, per-resource permissions and the audit log, over the
 * database (`AuthApi` is the part the rest of the server relies on; the user and permission management methods
 * back the MLflow auth REST API, Slipway's token endpoints and the CLI).
 *
 * Wrong usernames and wrong passwords take the same time (an unknown user is verified against a dummy hash) and
 * get the same message; lockouts and rate limits answer that message too, and only the audit log says why.
 */
import { randomUUID } from "node:crypto";
import { MlflowError, invalidParameter, notFound } from "@slipway/protocol";
import type { SqlDb } from "../../platform/db/sql-db.js";
import {
  canonicalExperimentId,
  type AuditEvent,
  type AuthApi,
  type Credentials,
  type IssuedSession,
  type IssuedToken,
  type OidcIdentity,
  type Permission,
  type Principal,
} from "./auth-api.js";
import { AuditStore, type AuditEntry, type AuditQuery } from "./audit-store.js";
import { AuthStore, type PermissionResource, type UserRow } from "./auth-store.js";
import { FailedLoginLimiter, type IpLimitOptions } from "./login-limits.js";
import {
  DEFAULT_SCRYPT,
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  verifyPassword,
  type ScryptParams,
} from "./passwords.js";
import { validatePermission, validateUsername, tokenView, type TokenView } from "./auth-views.js";
import { csrfTokenFor, looksLikeToken, newSecret, newToken, sameHash, sha256 } from "./tokens.js";

// re-exported for the modules that imported them from here
export {
  USERNAME_PATTERN,
  tokenView,
  userView,
  validateUsername,
  type TokenView,
  type UserView,
} from "./auth-views.js";
export { csrfTokenFor } from "./tokens.js";

/** The one message every authentication failure answers (the audit log records the real reason). */
export const INVALID_CREDENTIALS = "Invalid credentials: check the username and password, or the token.";

export interface AuthServiceOptions {
  db: SqlDb;
  /** Where no permission is recorded (MLflow's default: READ). */
  defaultPermission?: Permission;
  now?: () => number;
  /** Consecutive failed password attempts before a user is locked (default 5), and for how long (default 15 min). */
  lockout?: { maxFailures?: number; lockMs?: number };
  /** Failed attempts per client address (default 20 per minute). */
  ipLimit?: Partial<IpLimitOptions>;
  /** UI session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** How long a verified basic-auth pair is remembered in memory (default 60 s; 0 = never). */
  basicCacheMs?: number;
  /** scrypt cost (tests lower it). */
  scrypt?: ScryptParams;
}

const MAX_TOKEN_NAME = 100;
const TOUCH_INTERVAL_MS = 60_000;
const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;

function unauthenticated(): MlflowError {
  return new MlflowError("UNAUTHENTICATED", INVALID_CREDENTIALS);
}

function principalOf(user: UserRow, via: Principal["via"], extra: Partial<Principal> = {}): Principal {
  return {
    userId: Number(user.id),
    username: user.username,
    isAdmin: Number(user.is_admin) === 1,
    kind: user.kind,
    via,
    ...extra,
  };
}

export class AuthService implements AuthApi {
  readonly defaultPermission: Permission;
  readonly sessionTtlMs: number;
  private readonly store: AuthStore;
  private readonly auditLog: AuditStore;
  private readonly now: () => number;
  private readonly maxFailures: number;
  private readonly lockMs: number;
  private readonly basicCacheMs: number;
  private readonly scrypt: ScryptParams;
  private readonly limiter: FailedLoginLimiter;
  /** sha256(user:pass) → the user it verified as, until `expires`. */
  private readonly basicCache = new Map<string, { userId: number; expires: number }>();
  private dummyHash: Promise<string> | undefined;

  constructor(options: AuthServiceOptions) {
    this.store = new AuthStore(options.db);
    this.now = options.now ?? Date.now;
    this.auditLog = new AuditStore(options.db, this.now);
    this.defaultPermission = options.defaultPermission ?? "READ";
    this.maxFailures = options.lockout?.maxFailures ?? 5;
    this.lockMs = options.lockout?.lockMs ?? 15 * 60_000;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.basicCacheMs = options.basicCacheMs ?? 60_000;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.limiter = new FailedLoginLimiter(
      { maxFailures: options.ipLimit?.maxFailures ?? 20, windowMs: options.ipLimit?.windowMs ?? 60_000 },
      this.now,
    );
  }

  // ================================================================ authentication

  async authenticate(credentials: Credentials): Promise<Principal | null> {
    const header = credentials.authorization?.trim();
    if (header !== undefined && header !== "") {
      const space = header.indexOf(" ");
      const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
      const value = space < 0 ? "" : header.slice(space + 1).trim();
      if (scheme === "basic") {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (value === "" || colon < 0)
          return this.reject(credentials.ip, "login.failed", { reason: "malformed basic" });
        return this.login(decoded.slice(0, colon), decoded.slice(colon + 1), { ip: credentials.ip, via: "basic" });
      }
      if (scheme === "bearer") return this.authenticateToken(value, credentials.ip);
      return this.reject(credentials.ip, "login.failed", { reason: `unsupported scheme ${scheme.slice(0, 20)}` });
    }
    if (credentials.sessionCookie !== undefined && credentials.sessionCookie !== "") {
      return this.authenticateSession(credentials.sessionCookie, credentials.ip);
    }
    return null;
  }

  /**
   * Verifies a username and password (HTTP basic, the login endpoint). Same time and same error for unknown users,
   * wrong passwords, password-less accounts and locked accounts.
   */
  async login(
    username: string,
    password: string,
    context: { ip: string; via?: Principal["via"]; userAgent?: string },
  ): Promise<Principal> {
    const via = context.via ?? "session";
    this.limiter.check(context.ip);
    const cacheKey = this.basicCacheMs > 0 ? sha256(`${username}:${password}`) : undefined;
    if (cacheKey) {
      const hit = this.basicCache.get(cacheKey);
      if (hit && hit.expires > this.now()) {
        const user = await this.store.userById(hit.userId);
        if (user && !this.isLocked(user)) return principalOf(user, via);
      }
      if (hit) this.basicCache.delete(cacheKey);
    }
    const user = username.length <= 128 ? await this.store.userByName(username) : undefined;
    const stored = user?.password_hash ?? (await this.dummy());
    const ok = (await verifyPassword(password, stored)) && user?.password_hash != null;
    const audit = { method: "POST", path: "/auth/login", ip: context.ip, userAgent: context.userAgent };
    if (!user) return this.reject(context.ip, "login.failed", { reason: "unknown user", username }, audit);
    if (this.isLocked(user)) {
      return this.reject(
        context.ip,
        "login.locked",
        { reason: "locked", locked_until: user.locked_until },
        audit,
        user,
      );
    }
    if (user.locked_until !== null) await this.store.clearLock(user.id);
    if (!ok) {
      const reason = user.password_hash === null ? "no password (token-only account)" : "wrong password";
      const after = await this.store.recordFailedLogin(user.id, this.maxFailures, this.now() + this.lockMs);
      const lockedNow = after !== undefined && this.isLocked(after);
      if (lockedNow) this.invalidateUser(user.id);
      return this.reject(
        context.ip,
        lockedNow ? "login.locked" : "login.failed",
        { reason, failed_logins: after?.failed_logins, ...(lockedNow ? { locked_until: after.locked_until } : {}) },
        audit,
        user,
      );
    }
    if (Number(user.failed_logins) !== 0) await this.store.resetFailedLogins(user.id);
    if (needsRehash(user.password_hash!, this.scrypt)) {
      await this.store.setPassword(user.id, await hashPassword(password, this.scrypt), this.now());
    }
    if (cacheKey) this.basicCache.set(cacheKey, { userId: Number(user.id), expires: this.now() + this.basicCacheMs });
    const principal = principalOf(user, via);
    // basic auth comes with every request: this records the verifications (at most one per cache period per client)
    if (via === "basic") {
      await this.audit({
        principal,
        action: "login.ok",
        status: 200,
        resourceType: "user",
        resourceId: user.username,
        details: { via },
        ...audit,
      });
    }
    return principal;
  }

  private isLocked(user: UserRow): boolean {
    return user.locked_until !== null && Number(user.locked_until) > this.now();
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(newSecret(), this.scrypt);
    return this.dummyHash;
  }

  /** Counts the failure against the address, audits it, and throws the generic UNAUTHENTICATED. */
  private async reject(
    ip: string,
    action: string,
    details: Record<string, unknown>,
    request: { method: string; path: string; userAgent?: string | undefined } = { method: "-", path: "-" },
    user?: UserRow,
  ): Promise<never> {
    this.limiter.fail(ip);
    await this.audit({
      principal: user ? principalOf(user, "basic") : null,
      action,
      method: request.method,
      path: request.path,
      resourceType: "user",
      ...(user ? { resourceId: user.username } : {}),
      status: 401,
      ip,
      ...(request.userAgent === undefined ? {} : { userAgent: request.userAgent }),
      details,
    });
    throw unauthenticated();
  }

  private async authenticateToken(secret: string, ip: string): Promise<Principal> {
    this.limiter.check(ip);
    if (!looksLikeToken(secret)) return this.reject(ip, "token.rejected", { reason: "not a Slipway token" });
    const hash = sha256(secret);
    const row = await this.store.tokenByHash(hash);
    if (!row || !sameHash(row.secret_hash, hash)) return this.reject(ip, "token.rejected", { reason: "unknown token" });
    const now = this.now();
    if (row.revoked_at !== null) return this.reject(ip, "token.rejected", { reason: "revoked", token_id: row.id });
    if (row.expires_at !== null && Number(row.expires_at) <= now) {
      return this.reject(ip, "token.rejected", { reason: "expired", token_id: row.id });
    }
    const user = await this.store.userById(row.user_id);
    if (!user) return this.reject(ip, "token.rejected", { reason: "user gone", token_id: row.id });
    if (this.isLocked(user))
      return this.reject(ip, "token.rejected", { reason: "user locked", token_id: row.id }, undefined, user);
    if (row.last_used_at === null || now - Number(row.last_used_at) >= TOUCH_INTERVAL_MS) {
      await this.store.touchToken(row.id, now);
    }
    return principalOf(user, "token", { tokenId: row.id });
  }

  private async authenticateSession(cookie: string, ip: string): Promise<Principal> {
    this.limiter.check(ip);
    const hash = sha256(cookie);
    const row = await this.store.sessionByHash(hash);
    if (!row || !sameHash(row.secret_hash, hash))
      return this.reject(ip, "session.rejected", { reason: "unknown session" });
    const now = this.now();
    if (Number(row.expires_at) <= now) {
      await this.store.deleteSessionByHash(hash);
      return this.reject(ip, "session.rejected", { reason: "expired" });
    }
    const user = await this.store.userById(row.user_id);
    if (!user || this.isLocked(user)) return this.reject(ip, "session.rejected", { reason: "user gone or locked" });
    if (now - Number(row.last_seen_at) >= TOUCH_INTERVAL_MS) await this.store.touchSession(row.id, now);
    return principalOf(user, "session", { sessionId: row.id });
  }

  /** Forgets cached basic-auth verifications of a user (password change, deletion, lock, admin change). */
  private invalidateUser(userId: number): void {
    for (const [key, entry] of this.basicCache) if (entry.userId === userId) this.basicCache.delete(key);
  }

  // ================================================================ permissions (AuthApi)

  experimentPermission(userId: number, experimentId: string): Promise<Permission | null> {
    return this.store.permission("experiment", canonicalExperimentId(experimentId), userId);
  }

  registeredModelPermission(userId: number, name: string): Promise<Permission | null> {
    return this.store.permission("registered_model", name, userId);
  }

  experimentPermissions(userId: number): Promise<Map<string, Permission>> {
    return this.store.permissionsOf("experiment", userId);
  }

  registeredModelPermissions(userId: number): Promise<Map<string, Permission>> {
    return this.store.permissionsOf("registered_model", userId);
  }

  async grantCreator(userId: number, resource: { experimentId: string } | { registeredModelName: string }) {
    if ("experimentId" in resource)
      await this.store.upsertPermission("experiment", canonicalExperimentId(resource.experimentId), userId, "MANAGE");
    else await this.store.upsertPermission("registered_model", resource.registeredModelName, userId, "MANAGE");
  }

  /** What applies to `principal` on a resource: admins MANAGE everything, else the recorded permission or the default. */
  async effectivePermission(principal: Principal, resource: PermissionResource, key: string): Promise<Permission> {
    if (principal.isAdmin) return "MANAGE";
    return (
      (await this.store.permission(resource, permissionKey(resource, key), principal.userId)) ?? this.defaultPermission
    );
  }

  /**
   * Moves a registered model's permission rows to its new name. RegistryService keys permissions by name (as
   * MLflow does), so whoever renames a model (the authorization layer, after a successful rename) calls this.
   */
  renameRegisteredModel(oldName: string, newName: string): Promise<number> {
    return this.store.renameRegisteredModel(oldName, newName);
  }

  /** Drops every permission row of a deleted experiment or registered model. */
  deleteResourcePermissions(resource: PermissionResource, key: string): Promise<number> {
    return this.store.deleteResourcePermissions(resource, key);
  }

  // ================================================================ users

  async createUser(input: {
    username: string;
    password?: string;
    isAdmin?: boolean;
    kind?: Principal["kind"];
  }): Promise<UserRow> {
    const username = validateUsername(input.username);
    const kind = input.kind ?? "user";
    let passwordHash: string | null = null;
    if (kind === "user") {
      checkPasswordPolicy(input.password);
      passwordHash = await hashPassword(input.password, this.scrypt);
    } else if (input.password !== undefined) {
      throw invalidParameter("Service accounts have no password; they authenticate with API tokens.");
    }
    return this.store.insertUser({ username, passwordHash, isAdmin: input.isAdmin ?? false, kind, now: this.now() });
  }

  async requireUser(username: string): Promise<UserRow> {
    const user =
      typeof username === "string" && username.length <= 128 ? await this.store.userByName(username) : undefined;
    if (!user) throw notFound(`User with username=${username} not found`);
    return user;
  }

  userById(id: number): Promise<UserRow | undefined> {
    return this.store.userById(id);
  }

  listUsers(): Promise<UserRow[]> {
    return this.store.listUsers();
  }

  /** The user as MLflow's `users/get` answers: with its explicit permissions. */
  async mlflowUser(user: UserRow): Promise<Record<string, unknown>> {
    const [experiments, models] = await Promise.all([
      this.store.permissionsOf("experiment", user.id),
      this.store.permissionsOf("registered_model", user.id),
    ]);
    const id = Number(user.id);
    return {
      id,
      username: user.username,
      is_admin: Number(user.is_admin) === 1,
      experiment_permissions: [...experiments].map(([experiment_id, permission]) => ({
        experiment_id,
        user_id: id,
        permission,
      })),
      registered_model_permissions: [...models].map(([name, permission]) => ({ name, user_id: id, permission })),
    };
  }

  async updatePassword(username: string, password: string): Promise<UserRow> {
    const user = await this.requireUser(username);
    if (user.kind === "service_account") {
      throw invalidParameter(`'${username}' is a service account; service accounts authenticate with API tokens only.`);
    }
    checkPasswordPolicy(password);
    await this.store.setPassword(user.id, await hashPassword(password, this.scrypt), this.now());
    await this.store.deleteSessionsOf(user.id);
    this.invalidateUser(Number(user.id));
    return user;
  }

  async setAdmin(username: string, isAdmin: boolean): Promise<UserRow> {
    const user = await this.requireUser(username);
    await this.store.setAdmin(user.id, isAdmin, this.now());
    this.invalidateUser(Number(user.id));
    return user;
  }

  async deleteUser(username: string): Promise<UserRow> {
    const user = await this.requireUser(username);
    await this.store.deleteUser(user.id);
    this.invalidateUser(Number(user.id));
    return user;
  }

  /** Creates the admin unless a user of that name exists (container bootstrap); true when it was created. */
  async ensureAdmin(username: string, password: string): Promise<boolean> {
    validateUsername(username);
    if (await this.store.userByName(username)) return false;
    try {
      await this.createUser({ username, password, isAdmin: true });
      return true;
    } catch (error) {
      // another replica created it at the same moment
      if (error instanceof MlflowError && error.code === "RESOURCE_ALREADY_EXISTS") return false;
      throw error;
    }
  }

  // ================================================================ permission management (MLflow auth API)

  async createPermission(resource: PermissionResource, rawKey: string, username: string, permission: unknown) {
    const key = permissionKey(resource, rawKey);
    const p = validatePermission(permission);
    const user = await this.requireUser(username);
    await this.store.insertPermission(resource, key, user.id, p);
    return { user, permission: p };
  }

  async getPermission(resource: PermissionResource, rawKey: string, username: string) {
    const key = permissionKey(resource, rawKey);
    const user = await this.requireUser(username);
    const permission = await this.store.permission(resource, key, user.id);
    if (permission === null) throw notFound(permissionMissing(resource, key, user));
    return { user, permission };
  }

  async updatePermission(resource: PermissionResource, rawKey: string, username: string, permission: unknown) {
    const key = permissionKey(resource, rawKey);
    const p = validatePermission(permission);
    const user = await this.requireUser(username);
    if (!(await this.store.updatePermission(resource, key, user.id, p))) {
      throw notFound(permissionMissing(resource, key, user));
    }
    return { user, permission: p };
  }

  async deletePermission(resource: PermissionResource, rawKey: string, username: string) {
    const key = permissionKey(resource, rawKey);
    const user = await this.requireUser(username);
    if (!(await this.store.deletePermission(resource, key, user.id))) {
      throw notFound(permissionMissing(resource, key, user));
    }
    return { user };
  }

  // ================================================================ tokens

  async createToken(userId: number, options: { name: string; expiresAt?: number | null }): Promise<IssuedToken> {
    const name = typeof options.name === "string" ? options.name.trim() : "";
    if (name === "" || name.length > MAX_TOKEN_NAME) {
      throw invalidParameter(`Token name must be 1-${MAX_TOKEN_NAME} characters.`);
    }
    const now = this.now();
    const expiresAt = options.expiresAt ?? null;
    if (expiresAt !== null && (!Number.isSafeInteger(expiresAt) || expiresAt <= now)) {
      throw invalidParameter("Token expiry must be in the future.");
    }
    if (!(await this.store.userById(userId))) throw notFound(`User with id=${userId} not found`);
    const token = newToken();
    await this.store.insertToken({
      id: token.id,
      user_id: userId,
      name,
      secret_hash: token.hash,
      prefix: token.prefix,
      created_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      last_used_at: null,
    });
    return { tokenId: token.id, token: token.secret, name, expiresAt };
  }

  async tokenInfo(tokenId: string): Promise<TokenView | undefined> {
    const row = await this.store.tokenById(tokenId);
    return row ? tokenView(row) : undefined;
  }

  async listTokens(userId: number): Promise<TokenView[]> {
    return (await this.store.listTokens(userId)).map(tokenView);
  }

  /** Revokes a token of `by` (or any token, for an admin). Someone else's token answers as if it did not exist. */
  async revokeToken(tokenId: string, by: Principal): Promise<void> {
    const row = typeof tokenId === "string" && tokenId.length <= 64 ? await this.store.tokenById(tokenId) : undefined;
    if (!row || (Number(row.user_id) !== by.userId && !by.isAdmin)) throw notFound(`Token '${tokenId}' not found`);
    if (!(await this.store.revokeToken(row.id, this.now()))) {
      throw invalidParameter(`Token '${tokenId}' is already revoked.`);
    }
  }

  // ================================================================ sessions

  async createSession(userId: number, context: { ip: string; userAgent?: string }): Promise<IssuedSession> {
    const cookie = newSecret();
    const csrfToken = csrfTokenFor(cookie);
    const now = this.now();
    const id = randomUUID();
    const expiresAt = now + this.sessionTtlMs;
    await this.store.insertSession({
      id,
      secret_hash: sha256(cookie),
      user_id: userId,
      csrf_hash: sha256(csrfToken),
      created_at: now,
      expires_at: expiresAt,
      last_seen_at: now,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 500) ?? null,
    });
    // expired sessions of everyone are swept now and then, piggybacking on logins
    if (Math.random() < 0.05) await this.store.deleteExpiredSessions(now);
    return { sessionCookie: cookie, sessionId: id, csrfToken, expiresAt };
  }

  async endSession(sessionCookie: string): Promise<void> {
    await this.store.deleteSessionByHash(sha256(sessionCookie));
  }

  async verifyCsrf(sessionId: string, csrfToken: string): Promise<boolean> {
    if (typeof csrfToken !== "string" || csrfToken === "" || csrfToken.length > 200) return false;
    const row = await this.store.sessionById(sessionId);
    return row !== undefined && sameHash(row.csrf_hash, sha256(csrfToken));
  }

  // ================================================================ OIDC

  async upsertOidcUser(identity: OidcIdentity): Promise<Principal> {
    const now = this.now();
    const linked = await this.store.userByOidc(identity.issuer, identity.subject);
    if (linked) {
      const isAdmin = identity.isAdmin ?? Number(linked.is_admin) === 1;
      if ((Number(linked.is_admin) === 1) !== isAdmin) {
        await this.store.setAdmin(linked.id, isAdmin, now);
        this.invalidateUser(Number(linked.id));
      }
      return principalOf({ ...linked, is_admin: isAdmin ? 1 : 0 }, "session");
    }
    const username = validateUsername(identity.username);
    const existing = await this.store.userByName(username);
    if (existing) {
      // never hand a local account to whoever the identity provider calls by the same name
      throw new MlflowError(
        "PERMISSION_DENIED",
        `The username '${username}' belongs to an account not linked to this identity provider; ask an admin to rename or delete it.`,
      );
    }
    const user = await this.store.insertUser({
      username,
      passwordHash: null,
      isAdmin: identity.isAdmin ?? false,
      kind: "user",
      oidc: { issuer: identity.issuer, subject: identity.subject },
      now,
    });
    return principalOf(user, "session");
  }

  // ================================================================ audit

  async audit(event: AuditEvent): Promise<void> {
    await this.auditLog.append(event);
  }

  searchAudit(query: AuditQuery): Promise<{ entries: AuditEntry[]; next_page_token?: string }> {
    return this.auditLog.search(query);
  }
}

function permissionMissing(resource: PermissionResource, key: string, user: UserRow): string {
  return resource === "experiment"
    ? `Experiment permission with experiment_id=${key} and username=${user.username} not found`
    : `Registered model permission with name=${key} and username=${user.username} not found`;
}

/** Experiment ids are recorded in the tracking service's spelling ("007" → "7"); model names as they are. */
function permissionKey(resource: PermissionResource, key: string): string {
  return resource === "experiment" ? canonicalExperimentId(key) : key;
}
