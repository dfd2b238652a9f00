/**
 * MLflow's trace search syntax, the part this server supports, parsed into SQL over `trace_info` (alias `ti`):
 * comparisons joined by AND, each `identifier operator value`.
 *
 * - `trace.status` / `status` / `trace.state` / `state` (`attributes.` prefix too): `=`, `!=` with 'OK', 'ERROR',
 *   'IN_PROGRESS' or 'STATE_UNSPECIFIED' (MLflow 2's 'TRACE_STATUS_UNSPECIFIED' reads as the latter).
 * - `trace.timestamp_ms` / `timestamp_ms` / `timestamp`, `trace.execution_time_ms` / `execution_time_ms`: numbers,
 *   with `=`, `!=`, `<`, `>`, `<=`, `>=`.
 * - `trace.client_request_id`: `=`, `!=`.
 * - `tag.KEY` / `tags.KEY`, `metadata.KEY` / `request_metadata.KEY` (KEY may be quoted with backticks or double
 *   quotes): `=`, `!=` against a string; `!=` matches traces that have the key with another value.
 *
 * Anything else (OR, LIKE, IN, parentheses, other fields) is refused with INVALID_PARAMETER_VALUE naming it.
 * Order: `timestamp_ms` (default, DESC), `execution_time_ms`, `status`, each ASC or DESC; ties break on trace_id.
 */
import { invalidParameter, type TraceState } from "@slipway/protocol";
import type { SqlValue } from "../../platform/db/sql-db.js";

export interface SqlPart {
  sql: string;
  params: SqlValue[];
}

type Token =
  | { kind: "ident"; text: string }
  | { kind: "string"; text: string }
  | { kind: "number"; text: string }
  | { kind: "op"; text: string }
  | { kind: "other"; text: string };

const OPS = ["!=", "<=", ">=", "<>", "=", "<", ">"];

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") {
      const end = filter.indexOf(c, i + 1);
      if (end < 0) throw invalidParameter(`Invalid filter '${filter}': unterminated quoted text at position ${i}`);
      // a backticked or double-quoted name directly after a '.' belongs to the identifier
      const text = filter.slice(i + 1, end);
      const last = tokens.at(-1);
      if (c !== "'" && last?.kind === "ident" && last.text.endsWith(".")) last.text += text;
      else tokens.push({ kind: c === "`" ? "ident" : "string", text });
      i = end + 1;
      continue;
    }
    const op = OPS.find((o) => filter.startsWith(o, i));
    if (op) {
      tokens.push({ kind: "op", text: op });
      i += op.length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(filter.slice(i));
    if (number) {
      tokens.push({ kind: "number", text: number[0] });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(filter.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
      continue;
    }
    tokens.push({ kind: "other", text: c });
    i++;
  }
  return tokens;
}

type Field =
  | { kind: "column"; column: "state" | "request_time" | "execution_time_ms" | "client_request_id" }
  | { kind: "entry"; table: "trace_tags" | "trace_metadata"; key: string };

const COLUMN_NAMES: Record<string, "state" | "request_time" | "execution_time_ms" | "client_request_id"> = {
  status: "state",
  state: "state",
  timestamp_ms: "request_time",
  timestamp: "request_time",
  execution_time_ms: "execution_time_ms",
  execution_time: "execution_time_ms",
  client_request_id: "client_request_id",
};

function field(text: string, filter: string): Field {
  const dot = text.indexOf(".");
  const prefix = dot < 0 ? "" : text.slice(0, dot).toLowerCase();
  const rest = dot < 0 ? text : text.slice(dot + 1);
  if (prefix === "tag" || prefix === "tags") return { kind: "entry", table: "trace_tags", key: rest };
  if (prefix === "metadata" || prefix === "request_metadata")
    return { kind: "entry", table: "trace_metadata", key: rest };
  if (prefix === "" || prefix === "trace" || prefix === "attribute" || prefix === "attributes") {
    const column = COLUMN_NAMES[rest.toLowerCase()];
    if (column) return { kind: "column", column };
  }
  throw invalidParameter(
    `Invalid filter '${filter}': unsupported field '${text}'. Supported: trace.status, trace.timestamp_ms, ` +
      "trace.execution_time_ms, trace.client_request_id, tag.<key>, metadata.<key>",
  );
}

const STATE_ALIASES: Record<string, TraceState> = {
  OK: "OK",
  ERROR: "ERROR",
  IN_PROGRESS: "IN_PROGRESS",
  STATE_UNSPECIFIED: "STATE_UNSPECIFIED",
  TRACE_STATUS_UNSPECIFIED: "STATE_UNSPECIFIED",
};

/** The filter as SQL terms over `trace_info ti` (empty for no filter). */
export function traceFilterSql(filter: string | undefined): SqlPart[] {
  if (filter === undefined || filter.trim() === "") return [];
  const tokens = tokenize(filter);
  const parts: SqlPart[] = [];
  let i = 0;
  for (;;) {
    const name = tokens[i];
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (name?.kind !== "ident") {
      throw invalidParameter(`Invalid filter '${filter}': expected a field name, got '${name?.text ?? "the end"}'`);
    }
    if (op?.kind !== "op") {
      throw invalidParameter(
        `Invalid filter '${filter}': unsupported comparison '${op?.text ?? "(none)"}' after '${name.text}'; ` +
          "supported: =, !=, <, >, <=, >=",
      );
    }
    if (value?.kind !== "string" && value?.kind !== "number") {
      throw invalidParameter(`Invalid filter '${filter}': expected a value after '${name.text} ${op.text}'`);
    }
    parts.push(comparison(field(name.text, filter), op.text === "<>" ? "!=" : op.text, value, filter));
    i += 3;
    const next = tokens[i];
    if (next === undefined) return parts;
    if (next.kind !== "ident" || next.text.toUpperCase() !== "AND") {
      throw invalidParameter(`Invalid filter '${filter}': unsupported '${next.text}'; only AND joins comparisons`);
    }
    i += 1;
  }
}

function comparison(f: Field, op: string, value: Token, filter: string): SqlPart {
  if (f.kind === "entry") {
    if (op !== "=" && op !== "!=") {
      throw invalidParameter(
        `Invalid filter '${filter}': '${op}' does not apply to a tag or metadata key; use = or !=`,
      );
    }
    return {
      sql: `EXISTS (SELECT 1 FROM ${f.table} e WHERE e.trace_id = ti.trace_id AND e.key = ? AND e.value ${op} ?)`,
      params: [f.key, value.text],
    };
  }
  if (f.column === "state" || f.column === "client_request_id") {
    if (op !== "=" && op !== "!=") {
      throw invalidParameter(`Invalid filter '${filter}': '${op}' does not apply to ${f.column}; use = or !=`);
    }
    if (value.kind !== "string")
      throw invalidParameter(`Invalid filter '${filter}': ${f.column} compares to a quoted string`);
    if (f.column === "state") {
      const state = STATE_ALIASES[value.text.toUpperCase()];
      if (!state) {
        throw invalidParameter(
          `Invalid filter '${filter}': unknown status '${value.text}'; one of OK, ERROR, IN_PROGRESS, STATE_UNSPECIFIED`,
        );
      }
      return { sql: `ti.state ${op} ?`, params: [state] };
    }
    return { sql: `ti.client_request_id ${op} ?`, params: [value.text] };
  }
  const n = Number(value.text);
  if (value.kind !== "number" && !/^-?\d+(\.\d+)?$/.test(value.text)) {
    throw invalidParameter(`Invalid filter '${filter}': ${f.column} compares to a number, got '${value.text}'`);
  }
  return { sql: `ti.${f.column} ${op} ?`, params: [n] };
}

const ORDER_COLUMNS: Record<string, string> = {
  timestamp_ms: "ti.request_time",
  timestamp: "ti.request_time",
  request_time: "ti.request_time",
  execution_time_ms: "ti.execution_time_ms",
  execution_time: "ti.execution_time_ms",
  status: "ti.state",
  state: "ti.state",
};

/** `ORDER BY` text for MLflow's order_by list; default newest first. */
export function traceOrderSql(orderBy: readonly unknown[]): string {
  const terms: string[] = [];
  for (const item of orderBy) {
    if (typeof item !== "string") throw invalidParameter(`Invalid order_by clause '${String(item)}': not a string`);
    const m = /^\s*(?:(?:trace|attribute|attributes)\.)?([A-Za-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(item);
    const column = m ? ORDER_COLUMNS[m[1]!.toLowerCase()] : undefined;
    if (!m || !column) {
      throw invalidParameter(
        `Invalid order_by clause '${item}'. Supported: timestamp_ms, execution_time_ms, status, each ASC or DESC`,
      );
    }
    terms.push(`${column} ${(m[2] ?? "ASC").toUpperCase()}`);
  }
  if (terms.length === 0) terms.push("ti.request_time DESC");
  terms.push("ti.trace_id ASC");
  return terms.join(", ");
}
