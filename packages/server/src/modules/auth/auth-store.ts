/**
 * The SQL of the auth tables (users, API tokens, sessions, per-resource permissions), one statement per method,
 * written once for both dialects. No policy lives here: AuthService decides, this reads and writes rows.
 */
import { MlflowError } from "@slipway/protocol";
import type { SqlExecutor } from "../../platform/db/sql-db.js";
import type { Permission, PrincipalKind } from "./auth-api.js";

export interface UserRow {
  id: number;
  username: string;
  password_hash: string | null;
  is_admin: number;
  kind: PrincipalKind;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface TokenRow {
  id: string;
  user_id: number;
  name: string;
  secret_hash: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface SessionRow {
  id: string;
  secret_hash: string;
  user_id: number;
  csrf_hash: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export type PermissionResource = "experiment" | "registered_model";

const PERMISSION_TABLE: Readonly<Record<PermissionResource, { table: string; key: string }>> = {
  experiment: { table: "auth_experiment_permissions", key: "experiment_id" },
  registered_model: { table: "auth_registered_model_permissions", key: "name" },
};

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

const USER_COLUMNS = `id, username, password_hash, is_admin, kind, oidc_issuer, oidc_subject, failed_logins,
  locked_until, created_at, updated_at`;

export class AuthStore {
  constructor(private readonly db: SqlExecutor) {}

  // ------------------------------------------------------------------ users

  userByName(username: string): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM auth_users WHERE username = ?`, [username]);
  }

  userById(id: number): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM auth_users WHERE id = ?`, [id]);
  }

  userByOidc(issuer: string, subject: string): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM auth_users WHERE oidc_issuer = ? AND oidc_subject = ?`, [
      issuer,
      subject,
    ]);
  }

  listUsers(): Promise<UserRow[]> {
    return this.db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM auth_users ORDER BY username`);
  }

  /** Inserts a user; a taken username (or OIDC identity) is RESOURCE_ALREADY_EXISTS. */
  async insertUser(user: {
    username: string;
    passwordHash: string | null;
    isAdmin: boolean;
    kind: PrincipalKind;
    oidc?: { issuer: string; subject: string };
    now: number;
  }): Promise<UserRow> {
    try {
      const row = await this.db.get<UserRow>(
        `INSERT INTO auth_users (username, password_hash, is_admin, kind, oidc_issuer, oidc_subject, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS}`,
        [
          user.username,
          user.passwordHash,
          user.isAdmin ? 1 : 0,
          user.kind,
          user.oidc?.issuer ?? null,
          user.oidc?.subject ?? null,
          user.now,
          user.now,
        ],
      );
      return row!;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError("RESOURCE_ALREADY_EXISTS", `User '${user.username}' already exists.`);
      }
      throw error;
    }
  }

  async setPassword(id: number, passwordHash: string, now: number): Promise<void> {
    await this.db.run(
      `UPDATE auth_users SET password_hash = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`,
      [passwordHash, now, id],
    );
  }

  async setAdmin(id: number, isAdmin: boolean, now: number): Promise<void> {
    await this.db.run(`UPDATE auth_users SET is_admin = ?, updated_at = ? WHERE id = ?`, [isAdmin ? 1 : 0, now, id]);
  }

  async linkOidc(id: number, issuer: string, subject: string, now: number): Promise<void> {
    await this.db.run(`UPDATE auth_users SET oidc_issuer = ?, oidc_subject = ?, updated_at = ? WHERE id = ?`, [
      issuer,
      subject,
      now,
      id,
    ]);
  }

  /** Deletes the user; tokens, sessions and permissions go with it (ON DELETE CASCADE). */
  async deleteUser(id: number): Promise<boolean> {
    return (await this.db.run(`DELETE FROM auth_users WHERE id = ?`, [id])).changes > 0;
  }

  /**
   * Counts a failed password attempt in one statement (so concurrent failures all count) and locks the user
   * when the count reaches `threshold`. Returns the row after the update.
   */
  async recordFailedLogin(id: number, threshold: number, lockUntil: number): Promise<UserRow | undefined> {
    return this.db.get<UserRow>(
      `UPDATE auth_users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END
       WHERE id = ? RETURNING ${USER_COLUMNS}`,
      [threshold, lockUntil, id],
    );
  }

  /** After a lock expired: start counting again. */
  async clearLock(id: number): Promise<void> {
    await this.db.run(`UPDATE auth_users SET failed_logins = 0, locked_until = NULL WHERE id = ?`, [id]);
  }

  async resetFailedLogins(id: number): Promise<void> {
    await this.db.run(
      `UPDATE auth_users SET failed_logins = 0, locked_until = NULL WHERE id = ? AND (failed_logins <> 0 OR locked_until IS NOT NULL)`,
      [id],
    );
  }

  // ------------------------------------------------------------------ tokens

  async insertToken(row: TokenRow): Promise<void> {
    await this.db.run(
      `INSERT INTO auth_tokens (id, user_id, name, secret_hash, prefix, created_at, expires_at, revoked_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
      [row.id, row.user_id, row.name, row.secret_hash, row.prefix, row.created_at, row.expires_at],
    );
  }

  tokenByHash(hash: string): Promise<TokenRow | undefined> {
    return this.db.get<TokenRow>(`SELECT * FROM auth_tokens WHERE secret_hash = ?`, [hash]);
  }

  tokenById(id: string): Promise<TokenRow | undefined> {
    return this.db.get<TokenRow>(`SELECT * FROM auth_tokens WHERE id = ?`, [id]);
  }

  listTokens(userId: number): Promise<TokenRow[]> {
    return this.db.all<TokenRow>(`SELECT * FROM auth_tokens WHERE user_id = ? ORDER BY created_at DESC, id`, [userId]);
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.run(`UPDATE auth_tokens SET last_used_at = ? WHERE id = ?`, [now, id]);
  }

  /** Marks the token revoked; false when it was already revoked (or does not exist). */
  async revokeToken(id: string, now: number): Promise<boolean> {
    return (
      (await this.db.run(`UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, [now, id]))
        .changes > 0
    );
  }

  // ------------------------------------------------------------------ sessions

  async insertSession(row: SessionRow & { ip: string | null; user_agent: string | null }): Promise<void> {
    await this.db.run(
      `INSERT INTO auth_sessions (id, secret_hash, user_id, csrf_hash, created_at, expires_at, last_seen_at, ip, user_agent)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.secret_hash,
        row.user_id,
        row.csrf_hash,
        row.created_at,
        row.expires_at,
        row.last_seen_at,
        row.ip,
        row.user_agent,
      ],
    );
  }

  sessionByHash(hash: string): Promise<SessionRow | undefined> {
    return this.db.get<SessionRow>(
      `SELECT id, secret_hash, user_id, csrf_hash, created_at, expires_at, last_seen_at FROM auth_sessions WHERE secret_hash = ?`,
      [hash],
    );
  }

  sessionById(id: string): Promise<SessionRow | undefined> {
    return this.db.get<SessionRow>(
      `SELECT id, secret_hash, user_id, csrf_hash, created_at, expires_at, last_seen_at FROM auth_sessions WHERE id = ?`,
      [id],
    );
  }

  async touchSession(id: string, now: number): Promise<void> {
    await this.db.run(`UPDATE auth_sessions SET last_seen_at = ? WHERE id = ?`, [now, id]);
  }

  async deleteSessionByHash(hash: string): Promise<void> {
    await this.db.run(`DELETE FROM auth_sessions WHERE secret_hash = ?`, [hash]);
  }

  /** Ends every session of a user (password change, lock, demotion). */
  async deleteSessionsOf(userId: number): Promise<void> {
    await this.db.run(`DELETE FROM auth_sessions WHERE user_id = ?`, [userId]);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return (await this.db.run(`DELETE FROM auth_sessions WHERE expires_at <= ?`, [now])).changes;
  }

  // ------------------------------------------------------------------ permissions

  async permission(resource: PermissionResource, key: string, userId: number): Promise<Permission | null> {
    const { table, key: column } = PERMISSION_TABLE[resource];
    const row = await this.db.get<{ permission: Permission }>(
      `SELECT permission FROM ${table} WHERE ${column} = ? AND user_id = ?`,
      [key, userId],
    );
    return row?.permission ?? null;
  }

  async permissionsOf(resource: PermissionResource, userId: number): Promise<Map<string, Permission>> {
    const { table, key: column } = PERMISSION_TABLE[resource];
    const rows = await this.db.all<{ k: string; permission: Permission }>(
      `SELECT ${column} AS k, permission FROM ${table} WHERE user_id = ?`,
      [userId],
    );
    return new Map(rows.map((r) => [String(r.k), r.permission]));
  }

  /** Inserts a permission row; one that exists already is RESOURCE_ALREADY_EXISTS (as MLflow answers). */
  async insertPermission(resource: PermissionResource, key: string, userId: number, permission: Permission) {
    const { table, key: column } = PERMISSION_TABLE[resource];
    try {
      await this.db.run(`INSERT INTO ${table} (${column}, user_id, permission) VALUES (?, ?, ?)`, [
        key,
        userId,
        permission,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) {
        const what =
          resource === "experiment"
            ? `Experiment permission (experiment_id=${key}`
            : `Registered model permission (name=${key}`;
        throw new MlflowError("RESOURCE_ALREADY_EXISTS", `${what}, user_id=${userId}) already exists.`);
      }
      throw error;
    }
  }

  /** Inserts or replaces (the creator's MANAGE grant). */
  async upsertPermission(resource: PermissionResource, key: string, userId: number, permission: Permission) {
    const { table, key: column } = PERMISSION_TABLE[resource];
    await this.db.run(
      `INSERT INTO ${table} (${column}, user_id, permission) VALUES (?, ?, ?)
       ON CONFLICT (${column}, user_id) DO UPDATE SET permission = excluded.permission`,
      [key, userId, permission],
    );
  }

  async updatePermission(resource: PermissionResource, key: string, userId: number, permission: Permission) {
    const { table, key: column } = PERMISSION_TABLE[resource];
    const result = await this.db.run(`UPDATE ${table} SET permission = ? WHERE ${column} = ? AND user_id = ?`, [
      permission,
      key,
      userId,
    ]);
    return result.changes > 0;
  }

  async deletePermission(resource: PermissionResource, key: string, userId: number): Promise<boolean> {
    const { table, key: column } = PERMISSION_TABLE[resource];
    return (await this.db.run(`DELETE FROM ${table} WHERE ${column} = ? AND user_id = ?`, [key, userId])).changes > 0;
  }

  /** Every permission row of a resource (a deleted experiment or model). */
  async deleteResourcePermissions(resource: PermissionResource, key: string): Promise<number> {
    const { table, key: column } = PERMISSION_TABLE[resource];
    return (await this.db.run(`DELETE FROM ${table} WHERE ${column} = ?`, [key])).changes;
  }

  /** Moves a registered model's permission rows to its new name. */
  async renameRegisteredModel(oldName: string, newName: string): Promise<number> {
    return (
      await this.db.run(`UPDATE auth_registered_model_permissions SET name = ? WHERE name = ?`, [newName, oldName])
    ).changes;
  }
}
