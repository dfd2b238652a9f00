/**
 * Compiles parsed search-runs / search-experiments requests to one parameterised SELECT returning the
 * ids of the requested page, in order. Keys and values are always bound parameters; the SQL text only
 * depends on the shape of the request (so prepared statements are reused).
 *
 * Query shapes, chosen for SQLite's planner (and fine on PostgreSQL):
 *  - metric filters: one INNER JOIN on latest_metrics per key, conditions in the ON clause, so the
 *    `latest_metrics_key_value (key, is_nan, value, run_uuid)` index can drive a range scan;
 *  - param / tag filters: one INNER JOIN per key on the (run_uuid, key) primary key (at most one row
 *    per run, so no duplicates), letting the planner start from `(key, value)` when that is cheaper;
 *  - dataset filters: EXISTS over run_dataset_inputs (a run may have many inputs);
 *  - ordering by metric / param / tag: reuse the filter join for the same key when there is one,
 *    otherwise LEFT JOIN; missing values sort last in both directions, NaN after real values.
 */
import { placeholders, type Dialect, type Fragment, type SqlValue } from "../../platform/db/sql-db.js";
import {
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseRunFilter,
  parseRunOrderBy,
  type FilterClause,
  type OrderTerm,
} from "./search-filter.js";

export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface RunSearchQuery {
  experimentIds: readonly number[];
  filter?: string;
  orderBy?: readonly string[];
  viewType: ViewType;
  offset: number;
  limit: number;
}

export interface ExperimentSearchQuery {
  filter?: string;
  orderBy?: readonly string[];
  viewType: ViewType;
  offset: number;
  limit: number;
}

export interface CompiledQuery {
  sql: string;
  params: SqlValue[];
}

const DATASET_CONTEXT_TAG = "mlflow.data.context";

function lifecycle(column: string, viewType: ViewType): Fragment {
  switch (viewType) {
    case "ACTIVE_ONLY":
      return { sql: `${column} = ?`, params: ["active"] };
    case "DELETED_ONLY":
      return { sql: `${column} = ?`, params: ["deleted"] };
    case "ALL":
      return { sql: `${column} IN (?, ?)`, params: ["active", "deleted"] };
  }
}

/** `column <cmp> ?` for a string comparator (`= != LIKE ILIKE IN NOT IN`); the registry's search uses it too. */
export function stringCondition(
  column: string,
  comparator: string,
  value: string | string[],
  dialect: Dialect,
): Fragment {
  if (Array.isArray(value)) {
    const op = comparator === "NOT IN" ? "NOT IN" : "IN";
    return { sql: `${column} ${op} (${placeholders(value.length)})`, params: [...value] };
  }
  switch (comparator) {
    case "=":
      return { sql: `${column} = ?`, params: [value] };
    case "!=":
      return { sql: `${column} <> ?`, params: [value] };
    case "LIKE":
      // SQLite connections run with case_sensitive_like = ON; PostgreSQL's LIKE is case-sensitive.
      return { sql: `${column} LIKE ?`, params: [value] };
    case "ILIKE":
      return dialect === "postgres"
        ? { sql: `${column} ILIKE ?`, params: [value] }
        : { sql: `LOWER(${column}) LIKE LOWER(?)`, params: [value] };
    default:
      throw new Error(`unexpected string comparator ${comparator}`);
  }
}

const NUMERIC_OPS: Readonly<Record<string, string>> = {
  "=": "=",
  "!=": "<>",
  ">": ">",
  ">=": ">=",
  "<": "<",
  "<=": "<=",
};

function numericOp(comparator: string): string {
  const op = NUMERIC_OPS[comparator];
  if (op === undefined) throw new Error(`unexpected numeric comparator ${comparator}`);
  return op;
}

/**
 * A placeholder for a number compared with a BIGINT column. PostgreSQL infers the parameter's type
 * from the column, so a fraction or an out-of-range value must be cast to compare correctly.
 */
function integerColumnParam(value: number, dialect: Dialect): string {
  return dialect === "postgres" && !Number.isSafeInteger(value) ? "CAST(? AS DOUBLE PRECISION)" : "?";
}

function numericCondition(column: string, comparator: string, value: number, dialect: Dialect): Fragment {
  return { sql: `${column} ${numericOp(comparator)} ${integerColumnParam(value, dialect)}`, params: [value] };
}

/** The latest-metric condition on join alias `a`: NaN satisfies only `!=`. */
function metricCondition(a: string, comparator: string, value: number): Fragment {
  if (comparator === "!=") return { sql: `(${a}.is_nan = 1 OR ${a}.value <> ?)`, params: [value] };
  return { sql: `${a}.is_nan = 0 AND ${a}.value ${numericOp(comparator)} ?`, params: [value] };
}

/** `experiment_id` is compared as a string in MLflow; integer strings compare numerically here. */
function experimentIdCondition(
  column: string,
  comparator: string,
  value: string | string[],
  dialect: Dialect,
): Fragment {
  const isInt = (s: string) => /^-?\d{1,15}$/.test(s.trim());
  if ((comparator === "=" || comparator === "!=") && typeof value === "string" && isInt(value)) {
    return { sql: `${column} ${comparator === "=" ? "=" : "<>"} ?`, params: [Number(value.trim())] };
  }
  return stringCondition(`CAST(${column} AS TEXT)`, comparator, value, dialect);
}

function direction(ascending: boolean): string {
  return ascending ? "ASC" : "DESC";
}

/** One ORDER BY term on a possibly-NULL expression: NULLs last in both directions. */
function nullsLast(expr: string, ascending: boolean, nullable: boolean): string[] {
  return nullable ? [`(${expr} IS NULL)`, `${expr} ${direction(ascending)}`] : [`${expr} ${direction(ascending)}`];
}

function pageParams(q: { offset: number; limit: number }): SqlValue[] {
  return [Math.max(0, Math.trunc(q.limit)), Math.max(0, Math.trunc(q.offset))];
}

function assemble(
  select: string,
  joins: Fragment[],
  where: Fragment[],
  order: string[],
  page: SqlValue[],
): CompiledQuery {
  const params: SqlValue[] = [];
  let sql = select;
  for (const j of joins) {
    sql += ` ${j.sql}`;
    params.push(...j.params);
  }
  if (where.length > 0) {
    sql += ` WHERE ${where.map((w) => w.sql).join(" AND ")}`;
    for (const w of where) params.push(...w.params);
  }
  sql += ` ORDER BY ${order.join(", ")} LIMIT ? OFFSET ?`;
  params.push(...page);
  return { sql, params };
}

// ---------------------------------------------------------------------------------------------
// search-runs

const RUN_STRING_COLUMNS: Readonly<Record<string, string>> = {
  run_id: "runs.run_uuid",
  run_name: "runs.name",
  status: "runs.status",
  user_id: "runs.user_id",
  artifact_uri: "runs.artifact_uri",
  lifecycle_stage: "runs.lifecycle_stage",
};

const RUN_NUMERIC_COLUMNS: Readonly<Record<string, { column: string; nullable: boolean }>> = {
  start_time: { column: "runs.start_time", nullable: false },
  end_time: { column: "runs.end_time", nullable: true },
  experiment_id: { column: "runs.experiment_id", nullable: false },
};

interface KeyJoin {
  alias: string;
  /** True when a filter already guarantees the row exists and is not NaN. */
  present: boolean;
  /** True when the row may be NaN (metrics filtered only with `!=`). */
  nanPossible: boolean;
}

function groupByKey(clauses: readonly FilterClause[], entity: FilterClause["entity"]): Map<string, FilterClause[]> {
  const groups = new Map<string, FilterClause[]>();
  for (const c of clauses) {
    if (c.entity !== entity) continue;
    const list = groups.get(c.key);
    if (list) list.push(c);
    else groups.set(c.key, [c]);
  }
  return groups;
}

function datasetCondition(c: FilterClause, dialect: Dialect, n: number): Fragment {
  const value = c.value as string | string[];
  const rdi = `rdi${n}`;
  if (c.key === "context") {
    if (dialect === "postgres") {
      const cond = stringCondition(`jt${n}.elem->>'value'`, c.comparator, value, dialect);
      return {
        sql:
          `EXISTS (SELECT 1 FROM run_dataset_inputs ${rdi} CROSS JOIN LATERAL jsonb_array_elements(${rdi}.tags::jsonb) AS jt${n}(elem)` +
          ` WHERE ${rdi}.run_uuid = runs.run_uuid AND jt${n}.elem->>'key' = ? AND ${cond.sql})`,
        params: [DATASET_CONTEXT_TAG, ...cond.params],
      };
    }
    const cond = stringCondition(`json_extract(jt${n}.value, '$.value')`, c.comparator, value, dialect);
    return {
      sql:
        `EXISTS (SELECT 1 FROM run_dataset_inputs ${rdi}, json_each(${rdi}.tags) AS jt${n}` +
        ` WHERE ${rdi}.run_uuid = runs.run_uuid AND json_extract(jt${n}.value, '$.key') = ? AND ${cond.sql})`,
      params: [DATASET_CONTEXT_TAG, ...cond.params],
    };
  }
  const column = c.key === "digest" ? `ds${n}.digest` : `ds${n}.name`;
  const cond = stringCondition(column, c.comparator, value, dialect);
  return {
    sql:
      `EXISTS (SELECT 1 FROM run_dataset_inputs ${rdi} JOIN datasets ds${n} ON ds${n}.dataset_uuid = ${rdi}.dataset_uuid` +
      ` WHERE ${rdi}.run_uuid = runs.run_uuid AND ${cond.sql})`,
    params: cond.params,
  };
}

/**
 * Builds `SELECT runs.run_uuid AS run_uuid FROM runs ... ORDER BY ... LIMIT ? OFFSET ?` for one page
 * of search-runs. Throws MlflowError(INVALID_PARAMETER_VALUE) for an invalid filter or order_by.
 */
export function compileRunSearch(q: RunSearchQuery, dialect: Dialect): CompiledQuery {
  const clauses = parseRunFilter(q.filter);
  const terms = parseRunOrderBy(q.orderBy);
  const joins: Fragment[] = [];
  const where: Fragment[] = [];

  where.push(
    q.experimentIds.length === 0
      ? { sql: "1 = 0", params: [] }
      : { sql: `runs.experiment_id IN (${placeholders(q.experimentIds.length)})`, params: [...q.experimentIds] },
  );
  where.push(lifecycle("runs.lifecycle_stage", q.viewType));

  // metric / param / tag filters: one inner join per (entity, key)
  const keyJoins = new Map<string, KeyJoin>();
  let aliasN = 0;
  for (const [key, group] of groupByKey(clauses, "metric")) {
    const alias = `m${aliasN++}`;
    const conds = group.map((c) => metricCondition(alias, c.comparator, c.value as number));
    joins.push({
      sql: `JOIN latest_metrics ${alias} ON ${alias}.key = ? AND ${alias}.run_uuid = runs.run_uuid AND ${conds.map((f) => f.sql).join(" AND ")}`,
      params: [key, ...conds.flatMap((f) => f.params)],
    });
    keyJoins.set(`metric\0${key}`, { alias, present: true, nanPossible: group.every((c) => c.comparator === "!=") });
  }
  for (const entity of ["param", "tag"] as const) {
    const table = entity === "param" ? "params" : "tags";
    for (const [key, group] of groupByKey(clauses, entity)) {
      const alias = `${entity === "param" ? "p" : "t"}${aliasN++}`;
      const conds = group.map((c) => stringCondition(`${alias}.value`, c.comparator, c.value as string, dialect));
      joins.push({
        sql: `JOIN ${table} ${alias} ON ${alias}.key = ? AND ${alias}.run_uuid = runs.run_uuid AND ${conds.map((f) => f.sql).join(" AND ")}`,
        params: [key, ...conds.flatMap((f) => f.params)],
      });
      keyJoins.set(`${entity}\0${key}`, { alias, present: true, nanPossible: false });
    }
  }

  let datasetN = 0;
  for (const c of clauses) {
    if (c.entity === "attribute") {
      const stringColumn = RUN_STRING_COLUMNS[c.key];
      if (c.key === "experiment_id") {
        where.push(experimentIdCondition("runs.experiment_id", c.comparator, c.value as string | string[], dialect));
      } else if (stringColumn !== undefined) {
        where.push(stringCondition(stringColumn, c.comparator, c.value as string | string[], dialect));
      } else {
        const numeric = RUN_NUMERIC_COLUMNS[c.key];
        if (numeric === undefined) throw new Error(`unexpected run attribute ${c.key}`);
        where.push(numericCondition(numeric.column, c.comparator, c.value as number, dialect));
      }
    } else if (c.entity === "dataset") {
      where.push(datasetCondition(c, dialect, datasetN++));
    }
  }

  // ORDER BY
  const order: string[] = [];
  let orderedByStart = false;
  let orderedByRunId = false;
  for (const t of terms) {
    if (t.entity === "attribute") {
      const stringColumn = RUN_STRING_COLUMNS[t.key];
      if (stringColumn !== undefined) {
        order.push(`${stringColumn} ${direction(t.ascending)}`);
        if (t.key === "run_id") orderedByRunId = true;
        if (t.key === "run_id") break; // unique: later terms cannot change the order
        continue;
      }
      const numeric = RUN_NUMERIC_COLUMNS[t.key];
      if (numeric === undefined) throw new Error(`unexpected run attribute ${t.key}`);
      order.push(...nullsLast(numeric.column, t.ascending, numeric.nullable));
      if (t.key === "start_time") orderedByStart = true;
      continue;
    }
    const mapKey = `${t.entity}\0${t.key}`;
    let join = keyJoins.get(mapKey);
    if (join === undefined) {
      const alias = `o${aliasN++}`;
      const table = t.entity === "metric" ? "latest_metrics" : t.entity === "param" ? "params" : "tags";
      joins.push({
        sql: `LEFT JOIN ${table} ${alias} ON ${alias}.key = ? AND ${alias}.run_uuid = runs.run_uuid`,
        params: [t.key],
      });
      join = { alias, present: false, nanPossible: t.entity === "metric" };
      keyJoins.set(mapKey, join);
    }
    if (!join.present) order.push(`(${join.alias}.run_uuid IS NULL)`);
    if (join.nanPossible) order.push(`${join.alias}.is_nan`);
    order.push(`${join.alias}.value ${direction(t.ascending)}`);
  }
  if (!orderedByRunId) {
    if (!orderedByStart) order.push("runs.start_time DESC");
    order.push("runs.run_uuid ASC");
  }

  return assemble("SELECT runs.run_uuid AS run_uuid FROM runs", joins, where, order, pageParams(q));
}

// ---------------------------------------------------------------------------------------------
// search-experiments

const EXPERIMENT_COLUMNS: Readonly<Record<string, string>> = {
  name: "experiments.name",
  experiment_id: "experiments.experiment_id",
  creation_time: "experiments.creation_time",
  last_update_time: "experiments.last_update_time",
};

/**
 * Builds `SELECT experiments.experiment_id AS experiment_id FROM experiments ... LIMIT ? OFFSET ?` for
 * one page of search-experiments. Throws MlflowError(INVALID_PARAMETER_VALUE) for invalid input.
 */
export function compileExperimentSearch(q: ExperimentSearchQuery, dialect: Dialect): CompiledQuery {
  const clauses = parseExperimentFilter(q.filter);
  const terms: OrderTerm[] = parseExperimentOrderBy(q.orderBy);
  const joins: Fragment[] = [];
  const where: Fragment[] = [lifecycle("experiments.lifecycle_stage", q.viewType)];

  let aliasN = 0;
  for (const [key, group] of groupByKey(clauses, "tag")) {
    const alias = `t${aliasN++}`;
    const conds = group.map((c) => stringCondition(`${alias}.value`, c.comparator, c.value as string, dialect));
    joins.push({
      sql: `JOIN experiment_tags ${alias} ON ${alias}.key = ? AND ${alias}.experiment_id = experiments.experiment_id AND ${conds.map((f) => f.sql).join(" AND ")}`,
      params: [key, ...conds.flatMap((f) => f.params)],
    });
  }
  for (const c of clauses) {
    if (c.entity !== "attribute") continue;
    const column = EXPERIMENT_COLUMNS[c.key];
    if (column === undefined) throw new Error(`unexpected experiment attribute ${c.key}`);
    where.push(
      typeof c.value === "number"
        ? numericCondition(column, c.comparator, c.value, dialect)
        : stringCondition(column, c.comparator, c.value, dialect),
    );
  }

  const order: string[] = [];
  let orderedByCreation = false;
  let orderedById = false;
  for (const t of terms) {
    const column = EXPERIMENT_COLUMNS[t.key];
    if (column === undefined) throw new Error(`unexpected experiment attribute ${t.key}`);
    order.push(`${column} ${direction(t.ascending)}`);
    if (t.key === "creation_time") orderedByCreation = true;
    if (t.key === "experiment_id") {
      orderedById = true;
      break; // unique
    }
  }
  if (!orderedById) {
    if (!orderedByCreation) order.push("experiments.creation_time DESC");
    order.push("experiments.experiment_id ASC");
  }

  return assemble(
    "SELECT experiments.experiment_id AS experiment_id FROM experiments",
    joins,
    where,
    order,
    pageParams(q),
  );
}
