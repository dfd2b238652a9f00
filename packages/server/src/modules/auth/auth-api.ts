/**
 * The seam between authentication (who is calling: users, passwords, tokens, sessions, OIDC identities) and the
 * parts that use it: the authorization policy (what may they do), the SSO login flow and the data planes' token
 * checks. `AuthService` (auth-service.ts) implements it over the database; nothing else reads the auth tables.
 */

/** MLflow's permission names (mlflow.server.auth): each includes the ones before it, NO_PERMISSIONS none. */
export const PERMISSIONS = ["NO_PERMISSIONS", "READ", "EDIT", "MANAGE"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What a permission lets its holder do, as MLflow's auth plugin defines it. */
export interface PermissionAbilities {
  canRead: boolean;
  canUpdate: boolean;
  canDelete: boolean;
  canManage: boolean;
}

export function abilities(permission: Permission): PermissionAbilities {
  const rank = PERMISSIONS.indexOf(permission);
  return { canRead: rank >= 1, canUpdate: rank >= 2, canDelete: rank >= 3, canManage: rank >= 3 };
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === "string" && (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * An experiment id as the tracking service reads it: `"007"` is experiment 7 there, so permissions are recorded and
 * looked up under `"7"` — otherwise a grant (or a NO_PERMISSIONS) recorded for one spelling would miss the other.
 */
export function canonicalExperimentId(id: string): string {
  return /^\d{1,15}$/.test(id) ? String(Number(id)) : id;
}

export type PrincipalKind = "user" | "service_account";

/** An authenticated caller. */
export interface Principal {
  userId: number;
  username: string;
  isAdmin: boolean;
  kind: PrincipalKind;
  /** How this request proved it: HTTP basic, an API token (bearer), or a UI session cookie. */
  via: "basic" | "token" | "session";
  /** The token's id when `via` is "token". */
  tokenId?: string;
  /** The session's id (not its secret) when `via` is "session". */
  sessionId?: string;
}

/** Credentials as they arrived on a request. */
export interface Credentials {
  /** The Authorization header, verbatim (`Basic …` or `Bearer …`). */
  authorization?: string;
  /** The value of the session cookie (`slipway_session`), verbatim. */
  sessionCookie?: string;
  /** The caller's address (for lockout, rate limits and the audit log). */
  ip: string;
}

export interface IssuedToken {
  tokenId: string;
  /** The secret, shown once; only its hash is stored. */
  token: string;
  name: string;
  /** Milliseconds since the epoch, or null for a token that does not expire. */
  expiresAt: number | null;
}

export interface IssuedSession {
  /** The cookie value (secret; only its hash is stored). */
  sessionCookie: string;
  sessionId: string;
  /** The CSRF token the UI must send as `X-CSRF-Token` on every non-GET request made with the cookie. */
  csrfToken: string;
  expiresAt: number;
}

/** An identity asserted by the OpenID Connect provider after a verified login. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** preferred_username, else email, else `${issuer-host}:${subject}`. */
  username: string;
  /** Group claim values; mapped to admin by configuration. */
  groups: readonly string[];
  /**
   * Whether the groups make the user an admin; undefined when no admin groups are configured: the admin flag is
   * then left as it is (an admin promoted by hand stays one), and new users are not admins.
   */
  isAdmin?: boolean;
}

export interface AuditEvent {
  principal: Principal | null;
  /** A short verb-object name, e.g. "experiments.create", "permissions.experiment.update", "login.failed". */
  action: string;
  method: string;
  path: string;
  /** "experiment", "run", "registered_model", "model_version", "user", "token", "session", … */
  resourceType?: string;
  resourceId?: string;
  status: number;
  ip: string;
  userAgent?: string;
  details?: Record<string, unknown>;
}

export interface AuthApi {
  /**
   * Who sent these credentials. Null when none were sent. Throws `MlflowError("UNAUTHENTICATED", …, 401)` for
   * wrong, expired, revoked or locked-out credentials (the message never says which part was wrong).
   */
  authenticate(credentials: Credentials): Promise<Principal | null>;

  /** The explicit permission a user holds on an experiment, or null when none is recorded (the default applies). */
  experimentPermission(userId: number, experimentId: string): Promise<Permission | null>;
  /** The explicit permission a user holds on a registered model, or null when none is recorded. */
  registeredModelPermission(userId: number, name: string): Promise<Permission | null>;
  /** Experiments on which the user holds an explicit permission (to filter search results without N queries). */
  experimentPermissions(userId: number): Promise<Map<string, Permission>>;
  registeredModelPermissions(userId: number): Promise<Map<string, Permission>>;
  /** Records MANAGE for the creator of a new experiment or registered model (MLflow does the same). */
  grantCreator(userId: number, resource: { experimentId: string } | { registeredModelName: string }): Promise<void>;
  /** The permission that applies where none is recorded (configured; MLflow's default is READ). */
  readonly defaultPermission: Permission;

  createToken(userId: number, options: { name: string; expiresAt?: number | null }): Promise<IssuedToken>;
  revokeToken(tokenId: string, by: Principal): Promise<void>;

  createSession(userId: number, context: { ip: string; userAgent?: string }): Promise<IssuedSession>;
  endSession(sessionCookie: string): Promise<void>;
  /** Constant-time check of the CSRF token sent with a cookie-authenticated write. */
  verifyCsrf(sessionId: string, csrfToken: string): Promise<boolean>;

  /** Finds the user linked to an OIDC identity, creating (or updating the admin flag of) it. */
  upsertOidcUser(identity: OidcIdentity): Promise<Principal>;

  audit(event: AuditEvent): Promise<void>;
}
