/**
 * Compiles registry searches (search-registered-models, search-model-versions) to one parameterised
 * SELECT for the requested page, in order. Keys and values are always bound parameters; the SQL text
 * depends only on the request's shape. Filters and order_by are parsed by `registry-filter.ts`.
 */
import { invalidParameter } from "@slipway/protocol";
import type { Dialect, Fragment, SqlValue } from "../../platform/db/sql-db.js";
import { stringCondition } from "../tracking/search-sql.js";
import { identifier, parseModelFilter, parseOrderTerm, parseVersionFilter, type Clause } from "./registry-filter.js";
import { byCodePoint } from "./registry-reader.js";
import { IS_PROMPT_TAG } from "./registry-validation.js";

// ---------------------------------------------------------------------------------------------
// SQL

export interface CompiledSearch {
  sql: string;
  params: SqlValue[];
}

function numericCondition(column: string, comparator: string, value: number, dialect: Dialect): Fragment {
  const op = comparator === "!=" ? "<>" : comparator;
  // PostgreSQL types the parameter from the BIGINT column: a fraction must be cast to compare correctly
  const param = dialect === "postgres" && !Number.isSafeInteger(value) ? "CAST(? AS DOUBLE PRECISION)" : "?";
  return { sql: `${column} ${op} ${param}`, params: [value] };
}

/** Joins one tag row per filtered key, its conditions in the ON clause (keys are unique per entity). */
function tagJoins(
  clauses: readonly Clause[],
  table: string,
  on: (alias: string) => string,
  dialect: Dialect,
): Fragment[] {
  const byKey = new Map<string, Clause[]>();
  for (const c of clauses) {
    if (c.type !== "tag") continue;
    const list = byKey.get(c.key);
    if (list) list.push(c);
    else byKey.set(c.key, [c]);
  }
  let n = 0;
  return [...byKey].map(([key, group]) => {
    const alias = `t${n++}`;
    const conds = group.map((c) => stringCondition(`${alias}.value`, c.comparator, c.value as string, dialect));
    return {
      sql: `JOIN ${table} ${alias} ON ${on(alias)} AND ${alias}.key = ? AND ${conds.map((f) => f.sql).join(" AND ")}`,
      params: [key, ...conds.flatMap((f) => f.params)],
    };
  });
}

/**
 * MLflow 3 keeps prompts in the registry, marked by a tag, and hides them unless the filter asks for them
 * (`tags.\`mlflow.prompt.is_prompt\` = 'true'). When it does not, a clause on that tag is dropped.
 */
function splitPromptClauses(clauses: Clause[]): { clauses: Clause[]; excludePrompts: boolean } {
  const prompt = clauses.find((c) => c.type === "tag" && c.key === IS_PROMPT_TAG);
  const value = typeof prompt?.value === "string" ? prompt.value.toLowerCase() : undefined;
  const wantsPrompts =
    prompt !== undefined &&
    ((prompt.comparator === "=" && value === "true") || (prompt.comparator === "!=" && value === "false"));
  if (wantsPrompts) return { clauses, excludePrompts: false };
  return { clauses: clauses.filter((c) => !(c.type === "tag" && c.key === IS_PROMPT_TAG)), excludePrompts: true };
}

function direction(ascending: boolean): string {
  return ascending ? "ASC" : "DESC";
}

/** Names sort by code point on both databases (PostgreSQL would otherwise use the database's collation). */
function nameOrder(column: string, dialect: Dialect): string {
  return byCodePoint({ dialect }, column);
}

function assemble(q: {
  select: string;
  joins: Fragment[];
  where: Fragment[];
  order: string[];
  limit: number;
  offset: number;
}): CompiledSearch {
  const params: SqlValue[] = [];
  let sql = q.select;
  for (const j of q.joins) {
    sql += ` ${j.sql}`;
    params.push(...j.params);
  }
  if (q.where.length > 0) {
    sql += ` WHERE ${q.where.map((w) => w.sql).join(" AND ")}`;
    for (const w of q.where) params.push(...w.params);
  }
  sql += ` ORDER BY ${q.order.join(", ")} LIMIT ? OFFSET ?`;
  params.push(q.limit, q.offset);
  return { sql, params };
}

interface OrderField {
  /** The field a key maps to; two keys for one field are duplicates. */
  field: string;
  column: string;
  isName: boolean;
}

function orderTerms(
  orderBy: readonly string[] | undefined,
  keys: ReadonlyMap<string, OrderField>,
): { field: OrderField; ascending: boolean }[] {
  const valid = [...keys.keys()];
  const seen = new Set<string>();
  return (orderBy ?? []).map((entry) => {
    const { ident, ascending } = parseOrderTerm(entry);
    const id = identifier(ident, valid);
    if (id.type !== "attribute") throw invalidParameter(`Invalid order_by entity: ${id.type}`);
    const field = keys.get(id.key)!;
    if (seen.has(field.field)) {
      throw invalidParameter(
        `\`order_by\` contains duplicate fields: [${(orderBy ?? []).map((o) => `'${o}'`).join(", ")}]`,
      );
    }
    seen.add(field.field);
    return { field, ascending };
  });
}

// ---------------------------------------------------------------------------------------------
// search-registered-models

const MODEL_ORDER_KEYS: ReadonlyMap<string, OrderField> = new Map([
  ["name", { field: "name", column: "rm.name", isName: true }],
  ["creation_timestamp", { field: "creation_time", column: "rm.creation_time", isName: false }],
  // MLflow's SQL store orders `timestamp` by the last update, like `last_updated_timestamp`
  ["timestamp", { field: "last_updated_time", column: "rm.last_updated_time", isName: false }],
  ["last_updated_timestamp", { field: "last_updated_time", column: "rm.last_updated_time", isName: false }],
]);

/**
 * `SELECT rm.id ... ORDER BY ... LIMIT ? OFFSET ?` for one page of search-registered-models.
 * Default and tie-break order: name ascending.
 */
export function compileModelSearch(
  q: { filter?: string | undefined; orderBy?: readonly string[] | undefined; limit: number; offset: number },
  dialect: Dialect,
): CompiledSearch {
  const { clauses, excludePrompts } = splitPromptClauses(parseModelFilter(q.filter));
  const terms = orderTerms(q.orderBy, MODEL_ORDER_KEYS);
  const joins = tagJoins(clauses, "registered_model_tags", (a) => `${a}.registered_model_id = rm.id`, dialect);
  const where: Fragment[] = [];
  for (const c of clauses) {
    if (c.type === "attribute") where.push(stringCondition("rm.name", c.comparator, c.value as string, dialect));
  }
  if (excludePrompts) {
    where.push({
      sql: `NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.registered_model_id = rm.id AND p.key = ? AND p.value = ?)`,
      params: [IS_PROMPT_TAG, "true"],
    });
  }
  const order = terms.map(
    (t) => `${t.field.isName ? nameOrder(t.field.column, dialect) : t.field.column} ${direction(t.ascending)}`,
  );
  if (!terms.some((t) => t.field.isName)) order.push(`${nameOrder("rm.name", dialect)} ASC`);
  return assemble({
    select: "SELECT rm.id AS id FROM registered_models rm",
    joins,
    where,
    order,
    limit: q.limit,
    offset: q.offset,
  });
}

// ---------------------------------------------------------------------------------------------
// search-model-versions

const VERSION_FILTER_COLUMNS: Readonly<Record<string, string>> = {
  name: "rm.name",
  run_id: "mv.run_id",
  source_path: "mv.source",
};

const VERSION_ORDER_KEYS: ReadonlyMap<string, OrderField> = new Map([
  ["name", { field: "name", column: "rm.name", isName: true }],
  ["version_number", { field: "version", column: "mv.version", isName: false }],
  ["creation_timestamp", { field: "creation_time", column: "mv.creation_time", isName: false }],
  ["last_updated_timestamp", { field: "last_updated_time", column: "mv.last_updated_time", isName: false }],
]);

/** MLflow's default when order_by is empty. */
export const DEFAULT_VERSION_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"];

/**
 * `SELECT <version columns> ... ORDER BY ... LIMIT ? OFFSET ?` for one page of search-model-versions.
 * Default order `last_updated_timestamp DESC, name ASC, version_number DESC`; name ascending and
 * version descending break ties.
 */
export function compileVersionSearch(
  q: {
    select: string;
    filter?: string | undefined;
    orderBy?: readonly string[] | undefined;
    limit: number;
    offset: number;
  },
  dialect: Dialect,
): CompiledSearch {
  const { clauses, excludePrompts } = splitPromptClauses(parseVersionFilter(q.filter));
  const terms = orderTerms(q.orderBy && q.orderBy.length > 0 ? q.orderBy : DEFAULT_VERSION_ORDER, VERSION_ORDER_KEYS);
  const joins = tagJoins(
    clauses,
    "model_version_tags",
    (a) => `${a}.registered_model_id = mv.registered_model_id AND ${a}.version = mv.version`,
    dialect,
  );
  const where: Fragment[] = [];
  for (const c of clauses) {
    if (c.type !== "attribute") continue;
    if (c.key === "version_number")
      where.push(numericCondition("mv.version", c.comparator, c.value as number, dialect));
    else
      where.push(stringCondition(VERSION_FILTER_COLUMNS[c.key]!, c.comparator, c.value as string | string[], dialect));
  }
  if (excludePrompts) {
    where.push({
      sql: `NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.registered_model_id = mv.registered_model_id AND p.key = ? AND p.value = ?)`,
      params: [IS_PROMPT_TAG, "true"],
    });
  }
  const order = terms.map(
    (t) => `${t.field.isName ? nameOrder(t.field.column, dialect) : t.field.column} ${direction(t.ascending)}`,
  );
  if (!terms.some((t) => t.field.field === "name")) order.push(`${nameOrder("rm.name", dialect)} ASC`);
  if (!terms.some((t) => t.field.field === "version")) order.push("mv.version DESC");
  return assemble({ select: q.select, joins, where, order, limit: q.limit, offset: q.offset });
}
