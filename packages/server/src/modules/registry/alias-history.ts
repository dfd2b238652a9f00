/**
 * Slipway's alias and stage history query (`GET /api/2.0/slipway/registered-models/alias-history`): the rows the
 * registry service writes to `alias_history` on every alias set / move / delete and stage transition, newest
 * first, and, for an instant `at`, where every alias and stage pointed then ("which version was in production on
 * 3 March").
 *
 * Which rows belong to a model: those of the live model called `name` (by id, so they follow renames); when no
 * live model has that name, those of the deleted models that were ever called `name` (the history outlives its
 * model). A name with neither is 404.
 *
 * Pages are keyset pages on the row id (the order the changes were committed in, per model), so rows recorded
 * while a client pages do not shift or repeat entries.
 */
import {
  ALIAS_HISTORY_LIMITS,
  decodeReasonHeader,
  invalidParameter,
  type AliasHistoryEntry,
  type AliasHistoryRequest,
  type AliasHistoryResponse,
} from "@slipway/protocol";
import type { SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import { byCodePoint, modelNotFound } from "./registry-reader.js";
import { validateModelName, validateSearchMaxResults } from "./registry-validation.js";

interface HistoryRow {
  id: number;
  model_name: string;
  alias: string;
  kind: "alias" | "stage";
  from_version: number | null;
  to_version: number | null;
  changed_at: number;
  user_id: string | null;
  reason: string | null;
}

/** Stages answered in `at_stages`. `None` is left out: creating a version moves it without a history row. */
const AT_STAGES = new Set(["Staging", "Production", "Archived"]);

function encodeToken(beforeId: number): string {
  return Buffer.from(JSON.stringify({ before_id: beforeId })).toString("base64");
}

function decodeToken(token: string | undefined): number | undefined {
  if (token === undefined || token === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    const id = (parsed as { before_id?: unknown } | null)?.before_id;
    if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return id;
  } catch {
    // fall through
  }
  throw invalidParameter(`Invalid page token '${token}'.`);
}

function toEntry(row: HistoryRow): AliasHistoryEntry {
  // the schema's field order, absent versions and user left out
  return {
    name: row.model_name,
    alias: row.alias,
    kind: row.kind,
    ...(row.from_version === null ? {} : { from_version: String(row.from_version) }),
    ...(row.to_version === null ? {} : { to_version: String(row.to_version) }),
    changed_at: row.changed_at,
    ...(row.user_id === null ? {} : { user_id: row.user_id }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}

/**
 * The rows of model `name`, as a WHERE condition: the live model's, else those of every deleted model that was
 * called `name` at some point (so a model renamed and then deleted keeps its whole history); 404 when neither.
 */
async function modelScope(db: SqlExecutor, name: string): Promise<{ where: string; params: SqlValue[] }> {
  const live = await db.get<{ id: number }>(`SELECT id FROM registered_models WHERE name = ?`, [name]);
  if (live) return { where: "registered_model_id = ?", params: [live.id] };
  const deleted = await db.all<{ id: number }>(
    `SELECT DISTINCT registered_model_id AS id FROM alias_history
      WHERE model_name = ? AND registered_model_id NOT IN (SELECT id FROM registered_models)
      ORDER BY registered_model_id`,
    [name],
  );
  if (deleted.length === 0) throw modelNotFound(name);
  const ids = deleted.map((r) => r.id);
  return { where: `registered_model_id IN (${ids.map(() => "?").join(", ")})`, params: ids };
}

export async function queryAliasHistory(db: SqlExecutor, req: AliasHistoryRequest): Promise<AliasHistoryResponse> {
  const name = validateModelName(req.name);
  const alias = req.alias === undefined || req.alias === "" ? undefined : req.alias;
  const limit = validateSearchMaxResults(
    req.max_results,
    ALIAS_HISTORY_LIMITS.defaultMaxResults,
    ALIAS_HISTORY_LIMITS.maxMaxResults,
  );
  if (req.at !== undefined && req.at < 0) {
    throw invalidParameter(`Invalid value ${req.at} for parameter 'at': it must be epoch milliseconds (>= 0).`);
  }
  const beforeId = decodeToken(req.page_token);
  const scope = await modelScope(db, name);
  let where = scope.where;
  const params = [...scope.params];
  if (alias !== undefined) {
    where += " AND alias = ?";
    params.push(alias);
  }

  const pageWhere = beforeId === undefined ? where : `${where} AND id < ?`;
  const pageParams = beforeId === undefined ? params : [...params, beforeId];
  const rows = await db.all<HistoryRow>(
    `SELECT id, model_name, alias, kind, from_version, to_version, changed_at, user_id, reason
       FROM alias_history WHERE ${pageWhere} ORDER BY id DESC LIMIT ?`,
    [...pageParams, limit + 1],
  );
  const page = rows.slice(0, limit);
  const out: AliasHistoryResponse = { history: page.map(toEntry) };
  if (rows.length > limit) out.next_page_token = encodeToken(page[page.length - 1]!.id);

  if (req.at !== undefined) {
    // for every alias and stage, its last change at or before `at` says where it pointed then
    const last = await db.all<{ alias: string; kind: "alias" | "stage"; to_version: number | null }>(
      `SELECT h.alias, h.kind, h.to_version FROM alias_history h
         JOIN (SELECT MAX(id) AS id FROM alias_history WHERE ${where} AND changed_at <= ? GROUP BY kind, alias) l
           ON l.id = h.id
        ORDER BY ${byCodePoint(db, "h.alias")}`,
      [...params, req.at],
    );
    out.at = {};
    out.at_stages = {};
    for (const r of last) {
      if (r.to_version === null) continue;
      if (r.kind === "alias") out.at[r.alias] = String(r.to_version);
      else if (AT_STAGES.has(r.alias)) out.at_stages[r.alias] = String(r.to_version);
    }
  }
  return out;
}

/**
 * The reason an `X-Slipway-Reason` header carries (see `decodeReasonHeader`), or undefined without one.
 * A repeated header, broken percent-encoding or a reason over the length limit is 400.
 */
export function reasonFromHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalidParameter("The X-Slipway-Reason header may be given once.");
    return value[0] === undefined ? undefined : reasonFromHeader(value[0]);
  }
  let reason: string | undefined;
  try {
    reason = decodeReasonHeader(value);
  } catch {
    throw invalidParameter("The X-Slipway-Reason header is not valid percent-encoded UTF-8 after UTF-8''.");
  }
  if (reason !== undefined && reason.length > ALIAS_HISTORY_LIMITS.maxReason) {
    throw invalidParameter(
      `The X-Slipway-Reason header is ${reason.length} characters long; the limit is ${ALIAS_HISTORY_LIMITS.maxReason}.`,
    );
  }
  return reason;
}
