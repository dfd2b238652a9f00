/** MLflow's limits and naming rules for tracking entities (mlflow-rest-api.md section 3). */
import { invalidParameter } from "@slipway/protocol";

export const LIMITS = {
  maxEntityKey: 250,
  maxParamValue: 6000,
  maxTagValue: 8000,
  maxExperimentName: 500,
  maxExperimentTagKey: 250,
  maxExperimentTagValue: 5000,
  maxBatchMetrics: 1000,
  maxBatchParams: 100,
  maxBatchTags: 100,
  maxBatchEntities: 1000,
  maxDatasetsPerRequest: 1000,
  maxDatasetName: 500,
  maxDatasetDigest: 36,
  maxDatasetSource: 65535,
  maxDatasetSchema: 1048575,
  maxDatasetProfile: 16777215,
  maxInputTagKey: 255,
  maxInputTagValue: 500,
  searchRunsDefault: 1000,
  searchMax: 50000,
  searchExperimentsDefault: 1000,
  bulkIntervalMaxRuns: 100,
  bulkIntervalMaxResults: 2500,
} as const;

const KEY_CHARS = /^[/\w.\- :]*$/u;

/** posixpath.normpath: collapse `//`, drop `.` segments, resolve `a/..`. */
export function normpath(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (part === ".." && absolute) continue;
    else out.push(part);
  }
  const joined = (absolute ? "/" : "") + out.join("/");
  return joined === "" ? (absolute ? "/" : ".") : joined;
}

/** Keys already found valid, per kind: logging repeats the same few keys millions of times. */
const validKeys = { metric: new Set<string>(), param: new Set<string>(), tag: new Set<string>() };
const VALID_KEYS_CAP = 10_000;

/** Metric, param and tag keys: allowed characters, length, and "path-unique" (no `a//b`, `../x`, `/x`). */
export function validateKey(kind: "metric" | "param" | "tag", key: string): void {
  const known = validKeys[kind];
  if (known.has(key)) return;
  checkKey(kind, key);
  if (known.size >= VALID_KEYS_CAP) known.clear();
  known.add(key);
}

function checkKey(kind: "metric" | "param" | "tag", key: string): void {
  if (key.length > LIMITS.maxEntityKey) {
    throw invalidParameter(
      `${capitalise(kind)} '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.maxEntityKey}`,
    );
  }
  if (!KEY_CHARS.test(key)) {
    throw invalidParameter(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  const normal = normpath(key);
  if (key === "" || normal !== key || key === "." || key.startsWith("..") || key.startsWith("/")) {
    throw invalidParameter(
      `Invalid ${kind} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normal}'`,
    );
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** MLflow truncates over-long param and tag values rather than rejecting them. */
export function truncate(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

export function validateExperimentName(name: unknown): string {
  if (typeof name !== "string" || name.trim() === "") {
    throw invalidParameter(`Invalid experiment name: '${String(name)}'`);
  }
  if (name.length > LIMITS.maxExperimentName) {
    throw invalidParameter(`'name' exceeds the maximum length of ${LIMITS.maxExperimentName} characters`);
  }
  return name;
}

export function parseExperimentId(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw invalidParameter(`Invalid experiment ID: '${id}'`);
  return Number(id);
}

export function validateRunId(id: string): string {
  if (!/^[a-zA-Z0-9][\w-]{0,255}$/.test(id)) throw invalidParameter(`Invalid run ID: '${id}'`);
  return id;
}

export function validateMaxResults(name: string, value: number | undefined, dflt: number, max: number): number {
  const v = value ?? dflt;
  if (!Number.isInteger(v) || v <= 0) {
    throw invalidParameter(`Invalid value ${v} for parameter '${name}' supplied. It must be a positive integer`);
  }
  if (v > max) {
    throw invalidParameter(
      `Invalid value ${v} for parameter '${name}' supplied. It must be at most ${max}, but got value ${v}`,
    );
  }
  return v;
}

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64");
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    const offset = (parsed as { offset?: unknown }).offset;
    if (typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw invalidParameter("Invalid page token, could not base64-decode");
}
