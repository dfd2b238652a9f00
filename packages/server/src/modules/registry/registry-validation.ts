/** MLflow's naming rules and limits for registry entities (mlflow-rest-api.md sections 3 and 7), with its messages. */
import { invalidParameter, MODEL_VERSION_STAGES, type ModelVersionStage } from "@slipway/protocol";
import { normpath } from "../tracking/validation.js";

export const REGISTRY_LIMITS = {
  maxTagKey: 250,
  maxTagValue: 100_000,
  maxAlias: 255,
  searchModelsDefault: 100,
  searchModelsMax: 1000,
  searchVersionsDefault: 200_000,
  searchVersionsMax: 200_000,
} as const;

/** The stages `archive_existing_versions` may be used with (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly ModelVersionStage[] = ["Staging", "Production"];

/** The tag MLflow 3 marks prompts with; prompts live in the registry and are hidden from plain searches. */
export const IS_PROMPT_TAG = "mlflow.prompt.is_prompt";

const API_HINT = "See the API docs for more information about request parameters.";

/** A required string field: MLflow's handlers treat an empty string as missing. */
export function requireValue(value: string | undefined, name: string): string {
  if (value === undefined || value === "") {
    throw invalidParameter(`Missing value for required parameter '${name}'. ${API_HINT}`);
  }
  return value;
}

export function validateModelName(name: string | undefined): string {
  return requireValue(name, "name");
}

const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;

/** A version number as requests carry it (a string); MLflow accepts what Python's `int()` accepts. */
export function parseVersion(version: string | undefined): number {
  const text = requireValue(version, "version");
  const n = INTEGER_TEXT.test(text) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidParameter(`Parameter 'version' must be an integer, got '${text}'.`);
  return n;
}

const TAG_KEY_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;

function invalidValue(path: string, value: string, message: string): Error {
  return invalidParameter(`Invalid value ${JSON.stringify(value)} for parameter '${path}' supplied: ${message}`);
}

/** A registry tag key: MLflow's tag-name rule (characters and "path-unique"). */
export function validateTagKey(key: string): void {
  if (!TAG_KEY_CHARS.test(key)) {
    throw invalidValue(
      "key",
      key,
      "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
    );
  }
  const norm = normpath(key);
  if (norm !== key || norm === "." || norm.startsWith("..") || norm.startsWith("/")) {
    throw invalidValue(
      "key",
      key,
      `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
    );
  }
}

/** A registered-model or model-version tag: key rule, key ≤ 250, value ≤ 100,000 characters (not truncated). */
export function validateTag(key: string, value: string): { key: string; value: string } {
  validateTagKey(key);
  if (key.length > REGISTRY_LIMITS.maxTagKey) {
    throw invalidParameter(`'key' exceeds the maximum length of ${REGISTRY_LIMITS.maxTagKey} characters`);
  }
  if (value.length > REGISTRY_LIMITS.maxTagValue) {
    throw invalidParameter(`'value' exceeds the maximum length of ${REGISTRY_LIMITS.maxTagValue} characters`);
  }
  return { key, value };
}

/** Validates a list of tags; a key given twice keeps its last value, as sequential set-tag calls would. */
export function validateTags(tags: readonly { key: string; value: string }[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    const tag = validateTag(t.key, t.value);
    out.set(tag.key, tag.value);
  }
  return out;
}

const ALIAS_CHARS = /^[\p{L}\p{N}_-]*$/u;
const VERSION_ALIAS = /^[vV]\d+$/;

export function validateAlias(alias: string | undefined): string {
  if (alias === undefined || alias === "") {
    throw invalidParameter("Registered model alias name cannot be empty.");
  }
  if (!ALIAS_CHARS.test(alias)) {
    throw invalidParameter(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  if (alias.length > REGISTRY_LIMITS.maxAlias) {
    throw invalidParameter(
      `'Registered model alias name' exceeds the maximum length of ${REGISTRY_LIMITS.maxAlias} characters`,
    );
  }
  if (alias.toLowerCase() === "latest") {
    throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  }
  if (VERSION_ALIAS.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
  return alias;
}

const CANONICAL_STAGES = new Map<string, ModelVersionStage>(MODEL_VERSION_STAGES.map((s) => [s.toLowerCase(), s]));

/** A stage in any case, in its canonical spelling. */
export function canonicalStage(stage: string): ModelVersionStage {
  const found = CANONICAL_STAGES.get(stage.toLowerCase());
  if (found === undefined) {
    throw invalidParameter(
      `Invalid Model Version stage: ${stage}. Value must be one of ${MODEL_VERSION_STAGES.join(", ")}.`,
    );
  }
  return found;
}

/** MLflow's message for max_results above a search's limit. */
export function validateSearchMaxResults(value: number | undefined, dflt: number, max: number): number {
  const v = value ?? dflt;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw invalidParameter(`Invalid value for max_results. It must be a positive integer, but got ${v}`);
  }
  if (v > max) {
    throw invalidParameter(
      `Invalid value for request parameter max_results. It must be at most ${max}, but got value ${v}`,
    );
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Model version sources

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** The URI's scheme in lower case, or "" when it has none (a Windows drive letter is not a scheme). */
export function uriScheme(uri: string): string {
  const m = SCHEME.exec(uri);
  if (!m || m[1]!.length === 1) return "";
  return m[1]!.toLowerCase();
}

/** MLflow's `is_local_uri` for a POSIX server: a plain path, or a `file:` URI without a remote host. */
export function isLocalUri(uri: string): boolean {
  const scheme = uriScheme(uri);
  if (scheme === "") return true;
  if (scheme !== "file") return false;
  const rest = uri.slice("file:".length);
  if (!rest.startsWith("//")) return true;
  const host = rest.slice(2).split("/", 1)[0]!;
  return host === "" || host.toLowerCase() === "localhost";
}

/** The filesystem path of a local URI. */
export function localPath(uri: string): string {
  if (uriScheme(uri) === "") return uri;
  let rest = uri.slice("file:".length);
  if (rest.startsWith("//")) rest = rest.slice(2).replace(/^[^/]*/, "");
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

/** urllib.parse.urlparse(uri).path: without scheme, authority, query and fragment. */
function uriPath(uri: string): string {
  let rest = uri;
  const m = SCHEME.exec(rest);
  if (m) rest = rest.slice(m[0].length);
  if (rest.startsWith("//")) rest = rest.slice(2).replace(/^[^/?#]*/, "");
  return rest.replace(/[?#].*$/s, "");
}

function unquotePlus(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/**
 * True when a non-local source carries relative path references (`..`, `.`, NUL, also percent-encoded),
 * which MLflow refuses because they could reach files outside an artifact root.
 */
export function hasRelativeReferences(source: string): boolean {
  let s = source;
  for (let i = 0; i < 10; i++) {
    const next = unquotePlus(s);
    if (next === s) break;
    s = next;
  }
  const path = uriPath(s).replace(/\/+$/, "").replace(/\/+/g, "/");
  if (path.includes("\0") || s.split("/").some((p) => p === "..")) return true;
  if (path === "") return false;
  return !path.startsWith("/") || normpath(path) !== path;
}

/** Is `path` the directory `dir` or inside it (both absolute, normalised)? */
export function isWithin(path: string, dir: string): boolean {
  const p = normpath(path);
  const d = normpath(dir);
  return p === d || p.startsWith(d.endsWith("/") ? d : `${d}/`);
}

/** `runs:/<run_id>/<path>` → its run id and artifact path, or undefined for other URIs. */
export function parseRunsUri(source: string): { runId: string; path: string } | undefined {
  if (uriScheme(source) !== "runs") return undefined;
  const rest = source.slice("runs:".length);
  const m = /^\/([^/]+)(?:\/(.*))?$/s.exec(rest);
  if (!m) {
    throw invalidParameter(
      `Not a proper runs:/ URI: ${source}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'`,
    );
  }
  return { runId: m[1]!, path: (m[2] ?? "").replace(/^\/+|\/+$/g, "") };
}
