/**
 * Users and tokens as the endpoints show them (never a hash or a secret), and the validation of the names and
 * permission strings that reach AuthService.
 */
import { invalidParameter } from "@slipway/protocol";
import { isPermission, type Permission, type Principal } from "./auth-api.js";
import type { TokenRow, UserRow } from "./auth-store.js";

/** Usernames: letters, digits and `. _ @ + -`, 1-128 characters, starting with a letter or digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** A user as Slipway's endpoints show it. */
export interface UserView {
  id: number;
  username: string;
  is_admin: boolean;
  kind: Principal["kind"];
  created: number;
}

/** A token as listings show it (never the secret). */
export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  created: number;
  expires_at?: number;
  revoked_at?: number;
  last_used_at?: number;
}

export function userView(user: UserRow): UserView {
  return {
    id: Number(user.id),
    username: user.username,
    is_admin: Number(user.is_admin) === 1,
    kind: user.kind,
    created: Number(user.created_at),
  };
}

export function tokenView(row: TokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    created: Number(row.created_at),
    ...(row.expires_at === null ? {} : { expires_at: Number(row.expires_at) }),
    ...(row.revoked_at === null ? {} : { revoked_at: Number(row.revoked_at) }),
    ...(row.last_used_at === null ? {} : { last_used_at: Number(row.last_used_at) }),
  };
}

export function validateUsername(username: unknown): string {
  if (typeof username !== "string" || username === "") throw invalidParameter("Username must not be empty.");
  if (!USERNAME_PATTERN.test(username)) {
    throw invalidParameter(
      `Invalid username '${username.slice(0, 200)}': use 1-128 letters, digits and . _ @ + - (starting with a letter or digit).`,
    );
  }
  return username;
}

export function validatePermission(permission: unknown): Permission {
  if (!isPermission(permission)) {
    throw invalidParameter(
      `Invalid permission '${String(permission)}'. Valid permissions are: READ, EDIT, MANAGE, NO_PERMISSIONS.`,
    );
  }
  return permission;
}
