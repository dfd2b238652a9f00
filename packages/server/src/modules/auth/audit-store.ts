/**
 * The audit log: who did what, when and from where. Rows are appended, never updated; the username is copied in
 * so an entry still names its actor after the user is deleted. Searches are newest first with an opaque page
 * token (the last row's time and id), so pages stay stable while new entries arrive.
 */
import { invalidParameter } from "@slipway/protocol";
import type { SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import type { AuditEvent } from "./auth-api.js";

export interface AuditEntry {
  id: number;
  /** Epoch milliseconds. */
  timestamp: number;
  user_id?: number;
  username?: string;
  action: string;
  method: string;
  path: string;
  resource_type?: string;
  resource_id?: string;
  status: number;
  ip?: string;
  user_agent?: string;
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  username?: string;
  /** An exact action, or a prefix ending in `.` or `*` (`login.` matches `login.ok` and `login.failed`). */
  action?: string;
  /** Epoch milliseconds, inclusive. */
  since?: number;
  /** Epoch milliseconds, exclusive. */
  until?: number;
  maxResults?: number;
  pageToken?: string;
}

export const AUDIT_LIMITS = { defaultMaxResults: 100, maxMaxResults: 1000, maxText: 2000 } as const;

interface AuditRow {
  id: number;
  occurred_at: number;
  user_id: number | null;
  username: string | null;
  action: string;
  method: string;
  path: string;
  resource_type: string | null;
  resource_id: string | null;
  status: number;
  ip: string | null;
  user_agent: string | null;
  details: string | null;
}

function clip(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.length > AUDIT_LIMITS.maxText ? text.slice(0, AUDIT_LIMITS.maxText) : text;
}

export class AuditStore {
  constructor(
    private readonly db: SqlExecutor,
    private readonly now: () => number = Date.now,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    await this.db.run(
      `INSERT INTO audit_log (occurred_at, user_id, username, action, method, path, resource_type, resource_id,
         status, ip, user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        this.now(),
        event.principal?.userId ?? null,
        event.principal?.username ?? null,
        clip(event.action),
        clip(event.method),
        clip(event.path),
        clip(event.resourceType),
        clip(event.resourceId),
        event.status,
        clip(event.ip),
        clip(event.userAgent),
        event.details === undefined ? null : JSON.stringify(event.details),
      ],
    );
  }

  async search(query: AuditQuery): Promise<{ entries: AuditEntry[]; next_page_token?: string }> {
    const max = query.maxResults ?? AUDIT_LIMITS.defaultMaxResults;
    if (!Number.isSafeInteger(max) || max < 1 || max > AUDIT_LIMITS.maxMaxResults) {
      throw invalidParameter(`max_results must be between 1 and ${AUDIT_LIMITS.maxMaxResults}, got ${max}.`);
    }
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.username !== undefined && query.username !== "") {
      where.push("username = ?");
      params.push(query.username);
    }
    if (query.action !== undefined && query.action !== "") {
      if (query.action.endsWith("*") || query.action.endsWith(".")) {
        const prefix = query.action.replace(/\*$/, "");
        where.push("substr(action, 1, ?) = ?");
        params.push(prefix.length, prefix);
      } else {
        where.push("action = ?");
        params.push(query.action);
      }
    }
    if (query.since !== undefined) {
      where.push("occurred_at >= ?");
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push("occurred_at < ?");
      params.push(query.until);
    }
    if (query.pageToken !== undefined && query.pageToken !== "") {
      const [at, id] = decodePageToken(query.pageToken);
      where.push("(occurred_at < ? OR (occurred_at = ? AND id < ?))");
      params.push(at, at, id);
    }
    const rows = await this.db.all<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY occurred_at DESC, id DESC LIMIT ?`,
      [...params, max + 1],
    );
    const page = rows.slice(0, max);
    const last = page[page.length - 1];
    return {
      entries: page.map(toEntry),
      ...(rows.length > max && last ? { next_page_token: encodePageToken(last.occurred_at, last.id) } : {}),
    };
  }
}

function toEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    id: Number(row.id),
    timestamp: Number(row.occurred_at),
    action: row.action,
    method: row.method,
    path: row.path,
    status: Number(row.status),
  };
  if (row.user_id !== null) entry.user_id = Number(row.user_id);
  if (row.username !== null) entry.username = row.username;
  if (row.resource_type !== null) entry.resource_type = row.resource_type;
  if (row.resource_id !== null) entry.resource_id = row.resource_id;
  if (row.ip !== null) entry.ip = row.ip;
  if (row.user_agent !== null) entry.user_agent = row.user_agent;
  if (row.details !== null) {
    try {
      entry.details = JSON.parse(row.details) as Record<string, unknown>;
    } catch {
      entry.details = { raw: row.details };
    }
  }
  return entry;
}

function encodePageToken(at: number, id: number): string {
  return Buffer.from(JSON.stringify([Number(at), Number(id)])).toString("base64url");
}

function decodePageToken(token: string): [number, number] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n))) {
      return [value[0] as number, value[1] as number];
    }
  } catch {
    // fall through
  }
  throw invalidParameter(`Invalid page token '${token.slice(0, 100)}'.`);
}
