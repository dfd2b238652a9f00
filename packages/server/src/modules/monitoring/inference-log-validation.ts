/**
 * Parses inference-log and feedback requests from untrusted values (JSON bodies, query strings, or typed calls) into
 * the normalised values the store writes, or throws INVALID_PARAMETER_VALUE naming the field (`records[3].inputs`)
 * and the problem. Integers and booleans may arrive as text (query strings), as MLflow's validator allows.
 */
import {
  INFERENCE_LOG_LIMITS,
  invalidParameter,
  invalidValue,
  missingValue,
  stringifyJson,
  type MlflowError,
} from "@slipway/protocol";

/** A record ready to store: JSON columns already serialised. */
export interface ValidRecord {
  request_id: string;
  row_index: number;
  model_name: string;
  model_version: string;
  timestamp_ms: number;
  inputs: string;
  outputs: string;
  /** The HTTP status the request was answered with (200 unless given). */
  status: number;
  latency_ms: number | null;
  server: string | null;
}

/** A label ready to store. */
export interface ValidLabel {
  request_id: string;
  row_index: number;
  label: string;
  timestamp_ms: number;
}

/** Which rows a read covers: one model, optionally one version, `start_ms <= timestamp_ms < end_ms`. */
export interface LogFilter {
  model_name: string;
  model_version?: string;
  start_ms?: number;
  end_ms?: number;
}

/** The key of the last row of a page: the next page starts after it. */
export interface LogCursor {
  timestamp_ms: number;
  request_id: string;
  row_index: number;
}

export interface ValidSearch {
  filter: LogFilter;
  labelled_only: boolean;
  limit: number;
  after?: LogCursor;
}

const { maxBatch, maxIdLength, maxRowIndex, minStatus, maxStatus, defaultStatus } = INFERENCE_LOG_LIMITS;

type Fields = Record<string, unknown>;

function show(value: unknown): string {
  const text = typeof value === "string" ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** `Invalid value <v> for parameter '<field>': <problem>.` */
export function badValue(field: string, value: unknown, problem: string): MlflowError {
  return invalidParameter(`Invalid value ${show(value)} for parameter '${field}': ${problem}.`);
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A query-string parameter given twice arrives as a list. */
function single(value: unknown, field: string): unknown {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    throw badValue(field, value, "the parameter must be given at most once");
  }
  return value;
}

function identifier(value: unknown, field: string): string {
  if (value === undefined || value === null) throw missingValue(field);
  if (typeof value !== "string") throw invalidValue(field, value, "a string");
  if (value === "") throw badValue(field, value, "it must not be empty");
  if (value.length > maxIdLength) throw badValue(field, value, `it must be at most ${maxIdLength} characters long`);
  // PostgreSQL's text cannot hold U+0000: refuse it in both dialects so they agree
  if (value.includes("\u0000")) throw badValue(field, value, "it must not contain NUL characters");
  return value;
}

function optionalIdentifier(value: unknown, field: string): string | undefined {
  return value === undefined || value === null ? undefined : identifier(value, field);
}

const INT_TEXT = /^-?\d+$/;

function integer(value: unknown, field: string, min: number, max: number): number {
  let n: number | undefined;
  if (typeof value === "number" && Number.isInteger(value)) n = value;
  else if (typeof value === "string" && INT_TEXT.test(value)) n = Number(value);
  if (n === undefined || !Number.isSafeInteger(n)) throw invalidValue(field, value, "an integer");
  if (n < min || n > max) throw badValue(field, value, `it must be an integer from ${min} to ${max}`);
  return n;
}

function timestamp(value: unknown, field: string): number {
  if (value === undefined || value === null) throw missingValue(field);
  return integer(value, field, 0, Number.MAX_SAFE_INTEGER);
}

function rowIndex(value: unknown, field: string): number {
  return value === undefined || value === null ? 0 : integer(value, field, 0, maxRowIndex);
}

function status(value: unknown, field: string): number {
  return value === undefined || value === null ? defaultStatus : integer(value, field, minStatus, maxStatus);
}

function batch(value: unknown, field: string, what: string): unknown[] {
  if (value === undefined || value === null) throw missingValue(field);
  if (!Array.isArray(value)) throw invalidValue(field, value, `a list of ${what}`);
  if (value.length === 0)
    throw invalidParameter(
      `Invalid value for parameter '${field}': it must hold at least 1 ${what.replace(/s$/, "")}.`,
    );
  if (value.length > maxBatch) {
    throw invalidParameter(
      `Invalid value for parameter '${field}': at most ${maxBatch} ${what} per call, got ${value.length}.`,
    );
  }
  return value;
}

function element(value: unknown, field: string): Fields {
  if (!isObject(value)) throw invalidValue(field, value, "an object");
  return value;
}

// ---------------------------------------------------------------- writes

function record(value: unknown, at: string): ValidRecord {
  const r = element(value, at);
  const inputs = r.inputs;
  if (inputs === undefined || inputs === null) throw missingValue(`${at}.inputs`);
  if (!isObject(inputs)) throw invalidValue(`${at}.inputs`, inputs, "a JSON object of feature name to value");
  if (r.outputs === undefined) throw missingValue(`${at}.outputs`);
  let latency: number | null = null;
  if (r.latency_ms !== undefined && r.latency_ms !== null) {
    if (typeof r.latency_ms !== "number") throw invalidValue(`${at}.latency_ms`, r.latency_ms, "a number");
    if (!Number.isFinite(r.latency_ms) || r.latency_ms < 0) {
      throw badValue(`${at}.latency_ms`, r.latency_ms, "it must be a finite number >= 0");
    }
    latency = r.latency_ms;
  }
  return {
    request_id: identifier(r.request_id, `${at}.request_id`),
    row_index: rowIndex(r.row_index, `${at}.row_index`),
    model_name: identifier(r.model_name, `${at}.model_name`),
    model_version: identifier(r.model_version, `${at}.model_version`),
    timestamp_ms: timestamp(r.timestamp_ms, `${at}.timestamp_ms`),
    inputs: stringifyJson(inputs),
    outputs: stringifyJson(r.outputs),
    status: status(r.status, `${at}.status`),
    latency_ms: latency,
    server: optionalIdentifier(r.server, `${at}.server`) ?? null,
  };
}

/** The `records` of an append: 1..5000 records, each valid, or an error for the first bad one. */
export function parseRecords(value: unknown): ValidRecord[] {
  return batch(value, "records", "records").map((r, i) => record(r, `records[${i}]`));
}

function label(value: unknown, at: string, now: number): ValidLabel {
  const l = element(value, at || "request");
  const prefix = at === "" ? "" : `${at}.`;
  if (l.label === undefined || l.label === null) throw missingValue(`${prefix}label`);
  return {
    request_id: identifier(l.request_id, `${prefix}request_id`),
    row_index: rowIndex(l.row_index, `${prefix}row_index`),
    label: stringifyJson(l.label),
    timestamp_ms:
      l.timestamp_ms === undefined || l.timestamp_ms === null
        ? now
        : timestamp(l.timestamp_ms, `${prefix}timestamp_ms`),
  };
}

/** A feedback request: one label (`request_id`, `row_index`, `label`, `timestamp_ms`) or `labels`, 1..5000 of them. */
export function parseFeedback(value: unknown, now: number): ValidLabel[] {
  const body = element(value, "request");
  if (body.labels === undefined || body.labels === null) return [label(body, "", now)];
  for (const key of ["request_id", "row_index", "label", "timestamp_ms"]) {
    if (body[key] !== undefined && body[key] !== null) {
      throw invalidParameter(
        `Invalid parameter '${key}': give either 'labels' (a list) or one label's fields, not both.`,
      );
    }
  }
  return batch(body.labels, "labels", "labels").map((l, i) => label(l, `labels[${i}]`, now));
}

// ---------------------------------------------------------------- reads

/** Optional query parameters: absent, null and (from a query string) empty all mean "not given". */
function given(query: Fields, key: string): unknown {
  const value = single(query[key], key);
  return value === "" || value === null ? undefined : value;
}

/** The filter of a search, stats or window request. With `requireRange`, start_ms and end_ms are required. */
export function parseFilter(value: unknown, requireRange = false): LogFilter {
  const query = element(value ?? {}, "request");
  const filter: LogFilter = { model_name: identifier(single(query.model_name, "model_name"), "model_name") };
  const version = given(query, "model_version");
  if (version !== undefined) filter.model_version = identifier(version, "model_version");
  for (const key of ["start_ms", "end_ms"] as const) {
    const v = given(query, key);
    if (v === undefined) {
      if (requireRange) throw missingValue(key);
      continue;
    }
    filter[key] = timestamp(v, key);
  }
  if (filter.start_ms !== undefined && filter.end_ms !== undefined && filter.start_ms > filter.end_ms) {
    throw badValue("end_ms", filter.end_ms, `it must not be before start_ms (${filter.start_ms})`);
  }
  return filter;
}

function boolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidValue(field, value, "a boolean (true or false)");
}

/** Page size: 1..`max`, `dflt` when absent. */
export function parseMaxResults(value: unknown, field: string, dflt: number, max: number): number {
  return value === undefined ? dflt : integer(value, field, 1, max);
}

export function encodePageToken(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp_ms, cursor.request_id, cursor.row_index])).toString("base64url");
}

export function decodePageToken(token: unknown): LogCursor {
  if (typeof token !== "string") throw invalidValue("page_token", token, "a string");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 3) {
    const [t, id, index] = parsed as unknown[];
    if (
      typeof t === "number" &&
      Number.isSafeInteger(t) &&
      t >= 0 &&
      typeof id === "string" &&
      typeof index === "number" &&
      Number.isSafeInteger(index) &&
      index >= 0 &&
      index <= maxRowIndex &&
      encodePageToken({ timestamp_ms: t, request_id: id, row_index: index }) === token
    ) {
      return { timestamp_ms: t, request_id: id, row_index: index };
    }
  }
  throw badValue("page_token", token, "not a page token of this search");
}

export function parseSearch(value: unknown): ValidSearch {
  const query = element(value ?? {}, "request");
  const search: ValidSearch = {
    filter: parseFilter(query),
    labelled_only: boolean(given(query, "labelled_only"), "labelled_only"),
    limit: parseMaxResults(
      given(query, "max_results"),
      "max_results",
      INFERENCE_LOG_LIMITS.defaultMaxResults,
      INFERENCE_LOG_LIMITS.maxMaxResults,
    ),
  };
  const token = given(query, "page_token");
  if (token !== undefined) search.after = decodePageToken(token);
  return search;
}

/** A retention cutoff: epoch milliseconds. */
export function parseCutoff(value: unknown): number {
  return timestamp(value, "timestamp_ms");
}
