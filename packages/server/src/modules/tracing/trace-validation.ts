/**
 * Parses trace requests from untrusted JSON (bodies, query strings) into the values the store writes, or throws
 * INVALID_PARAMETER_VALUE naming the field (`trace.trace_info.request_time`, `trace.data.spans[3]`) and the problem.
 * MLflow 3's wire format: protobuf JSON, so `request_time` is RFC 3339 text and `execution_duration` is `"<seconds>s"`.
 */
import {
  invalidParameter,
  invalidValue,
  missingValue,
  stringifyJson,
  TRACE_LIMITS,
  TRACE_STATES,
  type TraceState,
} from "@slipway/protocol";

/** A trace ready to store. */
export interface ValidTrace {
  trace_id: string;
  experiment_id: number;
  client_request_id: string | null;
  /** Epoch milliseconds. */
  request_time: number;
  execution_time_ms: number | null;
  state: TraceState;
  request_preview: string | null;
  response_preview: string | null;
  tags: Map<string, string>;
  metadata: Map<string, string>;
  /** The spans as JSON text, or null when none came inline. */
  spans: string | null;
}

const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export function fields(value: unknown, name = "request"): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidValue(name, value, "a JSON object");
  return value as Record<string, unknown>;
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) throw missingValue(name);
  if (typeof value !== "object" || Array.isArray(value)) throw invalidValue(name, value, "a JSON object");
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, name: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw invalidValue(name, value, "a string");
  if (value.length > max) throw invalidParameter(`'${name}' exceeds the maximum length of ${max} characters`);
  return value;
}

export function parseTraceId(value: unknown, name = "trace_id"): string {
  if (value === undefined || value === null || value === "") throw missingValue(name);
  if (typeof value !== "string") throw invalidValue(name, value, "a string");
  if (value.length > TRACE_LIMITS.maxIdLength || !TRACE_ID.test(value)) {
    throw invalidValue(
      name,
      value,
      `a trace id (letters, digits, '_', '.', ':', '-'; at most ${TRACE_LIMITS.maxIdLength})`,
    );
  }
  return value;
}

/** An experiment id as text (JSON clients send numbers too), `"007"` read as 7. */
export function parseExperimentIdField(value: unknown, name: string): number {
  if (value === undefined || value === null || value === "") throw missingValue(name);
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,15}$/.test(text)) throw invalidValue(name, value, "an experiment id");
  return Number(text);
}

/** Protobuf Timestamp JSON (RFC 3339 text); epoch milliseconds as a number are accepted too. */
export function parseTimestamp(value: unknown, name: string): number {
  if (value === undefined || value === null || value === "") throw missingValue(name);
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    // Date.parse reads at most milliseconds; cut longer fractions first
    const ms = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  throw invalidValue(name, value, "an RFC 3339 timestamp such as '2026-11-27T14:00:00.123Z'");
}

/** Protobuf Duration JSON (`"1.5s"`) in milliseconds, rounded. */
export function parseDuration(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    const m = /^(\d{1,12})(\.\d{1,9})?s$/.exec(value);
    if (m) return Math.round(Number(`${m[1]}${m[2] ?? ""}`) * 1000);
  }
  throw invalidValue(name, value, "a duration in seconds such as '1.5s'");
}

export function formatDuration(ms: number): string {
  return `${ms / 1000}s`;
}

function parseState(value: unknown, name: string): TraceState {
  if (value === undefined || value === null) return "STATE_UNSPECIFIED";
  if (typeof value === "string" && (TRACE_STATES as readonly string[]).includes(value)) return value as TraceState;
  throw invalidValue(name, value, `one of ${TRACE_STATES.join(", ")}`);
}

export function parseKey(value: unknown, name: string): string {
  if (value === undefined || value === null || value === "") throw missingValue(name);
  if (typeof value !== "string") throw invalidValue(name, value, "a string");
  if (value.length > TRACE_LIMITS.maxKeyLength) {
    throw invalidParameter(`'${name}' exceeds the maximum length of ${TRACE_LIMITS.maxKeyLength} characters`);
  }
  return value;
}

export function parseValue(value: unknown, name: string): string {
  if (value === undefined || value === null) throw missingValue(name);
  if (typeof value !== "string") throw invalidValue(name, value, "a string");
  if (value.length > TRACE_LIMITS.maxValueLength) {
    throw invalidParameter(`'${name}' exceeds the maximum length of ${TRACE_LIMITS.maxValueLength} characters`);
  }
  return value;
}

function stringMap(value: unknown, name: string): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined || value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidValue(name, value, "an object of strings");
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    parseKey(key, `${name} key`);
    out.set(key, parseValue(v, `${name}.${key}`));
  }
  return out;
}

function cut(text: string | null): string | null {
  return text === null || text.length <= TRACE_LIMITS.maxPreviewLength
    ? text
    : text.slice(0, TRACE_LIMITS.maxPreviewLength);
}

function parseSpans(data: unknown): string | null {
  if (data === undefined || data === null) return null;
  const spans = object(data, "trace.data").spans;
  if (spans === undefined || spans === null) return null;
  if (!Array.isArray(spans)) throw invalidValue("trace.data.spans", spans, "a list of span objects");
  return spanText(spans as unknown[], "trace.data.spans");
}

function spanText(spans: unknown[], name: string): string {
  if (spans.length > TRACE_LIMITS.maxSpans) {
    throw invalidParameter(`'${name}' holds ${spans.length} spans; a trace may hold at most ${TRACE_LIMITS.maxSpans}`);
  }
  spans.forEach((span, i) => {
    if (span === null || typeof span !== "object" || Array.isArray(span)) {
      throw invalidValue(`${name}[${i}]`, span, "a span object");
    }
  });
  const text = stringifyJson(spans);
  const bytes = Buffer.byteLength(text);
  if (bytes > TRACE_LIMITS.maxSpansBytes) {
    throw invalidParameter(
      `'${name}' is ${bytes} bytes of JSON; the spans of one trace may take at most ${TRACE_LIMITS.maxSpansBytes} bytes`,
    );
  }
  return text;
}

/** A StartTraceV3 body: `{trace: {trace_info, data?: {spans}}}` (spans also as `trace.spans`, the proto's field). */
export function parseStartTrace(body: unknown): ValidTrace {
  const trace = object(fields(body).trace, "trace");
  const info = object(trace.trace_info, "trace.trace_info");
  const p = (field: string) => `trace.trace_info.${field}`;
  const trace_id = parseTraceId(info.trace_id, p("trace_id"));
  const location = object(info.trace_location, p("trace_location"));
  if (location.type !== undefined && location.type !== "MLFLOW_EXPERIMENT") {
    throw invalidValue(
      p("trace_location.type"),
      location.type,
      "MLFLOW_EXPERIMENT (the only location this server keeps)",
    );
  }
  const experiment = object(location.mlflow_experiment, p("trace_location.mlflow_experiment"));
  const experiment_id = parseExperimentIdField(
    experiment.experiment_id,
    p("trace_location.mlflow_experiment.experiment_id"),
  );
  const tags = stringMap(info.tags, p("tags"));
  const metadata = stringMap(info.trace_metadata, p("trace_metadata"));
  if (tags.size + metadata.size > TRACE_LIMITS.maxEntries) {
    throw invalidParameter(`a trace may carry at most ${TRACE_LIMITS.maxEntries} tags and metadata entries in all`);
  }
  let spans = parseSpans(trace.data);
  if (spans === null && trace.spans !== undefined && trace.spans !== null) {
    if (!Array.isArray(trace.spans)) throw invalidValue("trace.spans", trace.spans, "a list of span objects");
    spans = spanText(trace.spans as unknown[], "trace.spans");
  }
  return {
    trace_id,
    experiment_id,
    client_request_id: optionalString(info.client_request_id, p("client_request_id"), TRACE_LIMITS.maxIdLength),
    request_time: parseTimestamp(info.request_time, p("request_time")),
    execution_time_ms: parseDuration(info.execution_duration, p("execution_duration")),
    state: parseState(info.state, p("state")),
    request_preview: cut(optionalString(info.request_preview, p("request_preview"), Number.MAX_SAFE_INTEGER)),
    response_preview: cut(optionalString(info.response_preview, p("response_preview"), Number.MAX_SAFE_INTEGER)),
    tags,
    metadata,
    spans,
  };
}

/** A list parameter: a JSON list, or one or more query-string values. */
export function listParam(value: unknown, name: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value as unknown[];
  if (typeof value === "string") return [value];
  throw invalidValue(name, value, "a list");
}

export function parseMaxResults(value: unknown): number {
  if (value === undefined || value === null) return TRACE_LIMITS.defaultMaxResults;
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(value) ?? "undefined"} for parameter 'max_results' supplied. It must be a positive integer`,
    );
  }
  if (n > TRACE_LIMITS.maxMaxResults) {
    throw invalidParameter(
      `Invalid value ${n} for parameter 'max_results' supplied. It must be at most ${TRACE_LIMITS.maxMaxResults}`,
    );
  }
  return n;
}

export function parseOptionalInt(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw invalidValue(name, value, `an integer of at least ${min}`);
  }
  return n;
}
