/**
 * The routing tree, validated once at boot: per model name, the upstream targets that serve it (URL,
 * weight, the upstream's own model name, an API key read from the environment), the per-attempt
 * timeouts, the retry policy (attempts, backoff, time budget), health checks, and the model names to
 * fall back to, and on which failures.
 *
 * It comes from `--upstream` / `--fallback` flags, from a routing file (`--routing routing.yaml`, parsed
 * by the caller into plain data), or both; flags and file must not both give targets for one name.
 * Every problem is a `RoutingConfigError` naming the setting (`routing.yaml: models.big.targets[1].weight`).
 */

/** How an upstream call failed, for retries, fallback (`fallbackOn`) and metrics. */
export type UpstreamFailureKind =
  /** No connection, or it broke before an answer (refused, reset, DNS). */
  | "connect"
  /** No answer (first token, or whole body) within `timeout`, or silence past `idleTimeout`. */
  | "timeout"
  /** 429 from the upstream. */
  | "rate_limited"
  /** 5xx from the upstream. */
  | "server_error"
  /** An answer we could not read (bad JSON, bad SSE framing, a stream cut short). */
  | "protocol"
  /** Every target is marked down (or was refused by its own circuit); no attempt was made. */
  | "unavailable";

export const FAILURE_KINDS: readonly UpstreamFailureKind[] = [
  "connect",
  "timeout",
  "rate_limited",
  "server_error",
  "protocol",
  "unavailable",
];

export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  readonly attempts: number;
  /** First backoff; doubled per retry, with jitter in [50%, 100%]. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** No retry starts, and no wait runs, past this long after the request arrived. */
  readonly budgetMs: number;
}

export interface HealthPolicy {
  /** Probed with GET: relative to the target's base URL (`models`), or to its origin (`/health`). */
  readonly path: string;
  /** 0: no active checks (passive only). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failures (probes, connection errors, 5xx, timeouts) that mark a target down. */
  readonly unhealthyAfter: number;
  /** Consecutive successful probes that mark it up again. */
  readonly healthyAfter: number;
}

export interface UpstreamTargetConfig {
  /** The OpenAI base URL, ending before `/chat/completions` (`http://vllm:8000/v1`), without a trailing slash. */
  readonly url: string;
  readonly weight: number;
  /** The model name to send upstream; undefined: learnt from its `/models` (our name if listed, else its only model). */
  readonly model: string | undefined;
  /** `Authorization: Bearer …`, read from `apiKeyEnv` at boot. */
  readonly apiKey: string | undefined;
}

export interface ModelRouteConfig {
  readonly name: string;
  /** Empty for an embedded model that only has fallbacks. */
  readonly targets: readonly UpstreamTargetConfig[];
  /** Per attempt: until the first event of a stream, or the whole body otherwise. */
  readonly timeoutMs: number;
  /** Once a stream has started: longest silence between events. */
  readonly idleTimeoutMs: number;
  readonly retries: RetryPolicy;
  readonly health: HealthPolicy;
  /** Model names tried in order when this one fails (not chained: their own fallbacks are not used). */
  readonly fallback: readonly string[];
  readonly fallbackOn: readonly UpstreamFailureKind[];
}

export interface RoutingConfig {
  readonly routes: readonly ModelRouteConfig[];
}

export class RoutingConfigError extends Error {
  override readonly name = "RoutingConfigError";
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRIES: RetryPolicy = { attempts: 3, backoffMs: 250, maxBackoffMs: 5_000, budgetMs: 30_000 };
export const DEFAULT_HEALTH: HealthPolicy = {
  path: "models",
  intervalMs: 10_000,
  timeoutMs: 5_000,
  unhealthyAfter: 2,
  healthyAfter: 2,
};
const MAX_WEIGHT = 1000;

type Env = Readonly<Record<string, string | undefined>>;

/** `500ms`, `30s`, `5m` → milliseconds; bare numbers are refused (the unit would be a guess). */
export function parseDurationMs(text: string, setting: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new RoutingConfigError(`${setting}: '${text}' is not a duration (examples: 500ms, 30s, 5m)`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"]);
}

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

function checkName(name: string, setting: string): string {
  if (!MODEL_NAME.test(name)) {
    throw new RoutingConfigError(
      `${setting}: '${name}' is not a usable model name (letters, digits and . _ : / @ -, at most 128 characters)`,
    );
  }
  return name;
}

function checkUrl(text: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RoutingConfigError(`${setting}: '${text}' is not a URL (example: http://vllm:8000/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RoutingConfigError(`${setting}: '${text}' is not an http(s) URL`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new RoutingConfigError(`${setting}: '${text}' must not have a query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

function apiKeyFrom(envName: string | undefined, env: Env, setting: string): string | undefined {
  if (envName === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) {
    throw new RoutingConfigError(`${setting}: '${envName}' is not an environment variable name`);
  }
  const value = env[envName];
  if (value === undefined || value === "") {
    throw new RoutingConfigError(`${setting}: the environment variable ${envName} is not set`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// flags

/** What the flags give, as text. */
export interface RoutingFlags {
  /** `NAME=URL[@weight=N][@model=UPSTREAM_MODEL][@key-env=VAR]`, repeatable (one per target). */
  upstream?: string[];
  /** `NAME=FALLBACK[,FALLBACK…]`, repeatable. */
  fallback?: string[];
  /** Per-attempt timeout of the flag-defined upstreams (`60s`). */
  upstreamTimeout?: string;
  /** Environment variable holding the API key of flag-defined targets without `@key-env`. */
  upstreamKeyEnv?: string;
}

const TARGET_OPTION = /@(weight|model|key-env)=/;

/** One `--upstream` value → its model name and target. */
export function parseUpstreamFlag(
  text: string,
  options: { env: Env; defaultKeyEnv?: string },
): { name: string; target: UpstreamTargetConfig } {
  const setting = `--upstream ${text}`;
  const eq = text.indexOf("=");
  if (eq <= 0) throw new RoutingConfigError(`${setting}: expected NAME=URL (example: big=http://vllm:8000/v1)`);
  const name = checkName(text.slice(0, eq), "--upstream");
  let rest = text.slice(eq + 1);
  const first = TARGET_OPTION.exec(rest);
  const urlText = first ? rest.slice(0, first.index) : rest;
  rest = first ? rest.slice(first.index) : "";
  const opts = new Map<string, string>();
  while (rest !== "") {
    const m = /^@(weight|model|key-env)=/.exec(rest);
    if (!m)
      throw new RoutingConfigError(`${setting}: cannot read '${rest}' (options: @weight=N @model=NAME @key-env=VAR)`);
    rest = rest.slice(m[0].length);
    const next = TARGET_OPTION.exec(rest);
    const value = next ? rest.slice(0, next.index) : rest;
    rest = next ? rest.slice(next.index) : "";
    if (opts.has(m[1]!)) throw new RoutingConfigError(`${setting}: @${m[1]} is given twice`);
    opts.set(m[1]!, value);
  }
  const weightText = opts.get("weight");
  const weight = weightText === undefined ? 1 : Number(weightText);
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new RoutingConfigError(`${setting}: @weight must be an integer from 1 to ${MAX_WEIGHT}`);
  }
  const model = opts.get("model");
  if (model === "") throw new RoutingConfigError(`${setting}: @model is empty`);
  return {
    name,
    target: {
      url: checkUrl(urlText, setting),
      weight,
      model,
      apiKey: apiKeyFrom(opts.get("key-env") ?? options.defaultKeyEnv, options.env, setting),
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// the routing file

type Doc = Readonly<Record<string, unknown>>;

class Reader {
  constructor(private readonly source: string) {}

  fail(path: string, message: string): RoutingConfigError {
    return new RoutingConfigError(`${this.source}: ${path}: ${message}`);
  }

  object(value: unknown, path: string, keys: readonly string[]): Doc {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw this.fail(path, "expected a mapping");
    const doc = value as Doc;
    for (const key of Object.keys(doc)) {
      if (!keys.includes(key)) throw this.fail(`${path}.${key}`, `unknown setting (known: ${keys.join(", ")})`);
    }
    return doc;
  }

  optionalObject(doc: Doc, key: string, path: string, keys: readonly string[]): Doc | undefined {
    const value = doc[key];
    return value === undefined || value === null ? undefined : this.object(value, `${path}.${key}`, keys);
  }

  string(doc: Doc, key: string, path: string): string | undefined {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value === "") throw this.fail(`${path}.${key}`, "expected a non-empty string");
    return value;
  }

  integer(doc: Doc, key: string, path: string, min: number, max: number): number | undefined {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw this.fail(`${path}.${key}`, `expected an integer from ${min} to ${max}`);
    }
    return value;
  }

  duration(doc: Doc, key: string, path: string, allowZero = false): number | undefined {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      throw this.fail(`${path}.${key}`, `expected a duration with a unit (examples: 500ms, 30s, 5m)`);
    }
    let ms: number;
    try {
      ms = parseDurationMs(value, `${path}.${key}`);
    } catch {
      throw this.fail(`${path}.${key}`, `'${value}' is not a duration (examples: 500ms, 30s, 5m)`);
    }
    if (ms === 0 && !allowZero) throw this.fail(`${path}.${key}`, "must be longer than 0");
    return ms;
  }

  stringList(doc: Doc, key: string, path: string): string[] | undefined {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || !list.every((v): v is string => typeof v === "string" && v !== "")) {
      throw this.fail(`${path}.${key}`, "expected a list of names");
    }
    return list;
  }
}

const SETTINGS_KEYS = ["timeout", "idleTimeout", "retries", "health", "apiKeyEnv", "fallbackOn"] as const;
const RETRY_KEYS = ["attempts", "backoff", "maxBackoff", "budget"];
const HEALTH_KEYS = ["path", "interval", "timeout", "unhealthyAfter", "healthyAfter"];
const TARGET_KEYS = ["url", "weight", "model", "apiKeyEnv"];
const MODEL_KEYS = ["targets", "fallback", ...SETTINGS_KEYS];

/** Settings that `defaults` gives every model and a model may override. */
interface RouteSettings {
  timeoutMs?: number;
  idleTimeoutMs?: number;
  retries?: Partial<RetryPolicy>;
  health?: Partial<HealthPolicy>;
  apiKeyEnv?: string;
  fallbackOn?: UpstreamFailureKind[];
}

/** A model's entry before defaults are applied and names are checked against each other. */
interface DraftRoute {
  name: string;
  targets: UpstreamTargetConfig[];
  fallback: string[];
  settings: RouteSettings;
  /** Where it was defined, for messages. */
  origin: string;
}

function readSettings(r: Reader, doc: Doc, path: string): RouteSettings {
  const settings: RouteSettings = {};
  const timeout = r.duration(doc, "timeout", path);
  if (timeout !== undefined) settings.timeoutMs = timeout;
  const idle = r.duration(doc, "idleTimeout", path);
  if (idle !== undefined) settings.idleTimeoutMs = idle;
  const retries = r.optionalObject(doc, "retries", path, RETRY_KEYS);
  if (retries) {
    const p = `${path}.retries`;
    settings.retries = dropUndefined({
      attempts: r.integer(retries, "attempts", p, 1, 20),
      backoffMs: r.duration(retries, "backoff", p, true),
      maxBackoffMs: r.duration(retries, "maxBackoff", p, true),
      budgetMs: r.duration(retries, "budget", p, true),
    });
  }
  const health = r.optionalObject(doc, "health", path, HEALTH_KEYS);
  if (health) {
    const p = `${path}.health`;
    settings.health = dropUndefined({
      path: r.string(health, "path", p),
      intervalMs: r.duration(health, "interval", p, true),
      timeoutMs: r.duration(health, "timeout", p),
      unhealthyAfter: r.integer(health, "unhealthyAfter", p, 1, 100),
      healthyAfter: r.integer(health, "healthyAfter", p, 1, 100),
    });
  }
  const keyEnv = r.string(doc, "apiKeyEnv", path);
  if (keyEnv !== undefined) settings.apiKeyEnv = keyEnv;
  const on = r.stringList(doc, "fallbackOn", path);
  if (on !== undefined) {
    for (const kind of on) {
      if (!(FAILURE_KINDS as readonly string[]).includes(kind)) {
        throw r.fail(`${path}.fallbackOn`, `'${kind}' is not one of ${FAILURE_KINDS.join(", ")}`);
      }
    }
    settings.fallbackOn = on as UpstreamFailureKind[];
  }
  return settings;
}

function dropUndefined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A parsed routing file (`{ defaults?, models }`) → draft routes and the defaults it sets. */
function readRoutingDocument(
  document: unknown,
  source: string,
  env: Env,
): { defaults: RouteSettings; drafts: DraftRoute[] } {
  const r = new Reader(source);
  const root = r.object(document, "(top level)", ["defaults", "models"]);
  const defaultsDoc = r.optionalObject(root, "defaults", "", SETTINGS_KEYS);
  const defaults = defaultsDoc ? readSettings(r, defaultsDoc, "defaults") : {};
  const modelsValue = root.models ?? {};
  if (typeof modelsValue !== "object" || modelsValue === null || Array.isArray(modelsValue)) {
    throw r.fail("models", "expected a mapping of model names to their routes");
  }
  const models = modelsValue as Doc;
  const drafts: DraftRoute[] = [];
  for (const [name, value] of Object.entries(models)) {
    const path = `models.${name}`;
    checkNameAt(r, name, path);
    const doc = r.object(value, path, MODEL_KEYS);
    const settings = readSettings(r, doc, path);
    const keyEnv = settings.apiKeyEnv ?? defaults.apiKeyEnv;
    const targetsValue = doc.targets ?? [];
    if (!Array.isArray(targetsValue)) throw r.fail(`${path}.targets`, "expected a list of targets");
    const targets = targetsValue.map((item: unknown, i) => {
      const tp = `${path}.targets[${i}]`;
      const t = typeof item === "string" ? { url: item } : r.object(item, tp, TARGET_KEYS);
      const url = r.string(t, "url", tp);
      if (url === undefined) throw r.fail(`${tp}.url`, "missing");
      let checked: string;
      try {
        checked = checkUrl(url, `${tp}.url`);
      } catch (error) {
        throw r.fail(`${tp}.url`, (error as Error).message.replace(/^[^:]*: /, ""));
      }
      let apiKey: string | undefined;
      try {
        apiKey = apiKeyFrom(r.string(t, "apiKeyEnv", tp) ?? keyEnv, env, `${tp}.apiKeyEnv`);
      } catch (error) {
        throw new RoutingConfigError(`${source}: ${(error as Error).message}`);
      }
      return {
        url: checked,
        weight: r.integer(t, "weight", tp, 1, MAX_WEIGHT) ?? 1,
        model: r.string(t, "model", tp),
        apiKey,
      };
    });
    drafts.push({ name, targets, fallback: r.stringList(doc, "fallback", path) ?? [], settings, origin: source });
  }
  return { defaults, drafts };
}

function checkNameAt(r: Reader, name: string, path: string): void {
  if (!MODEL_NAME.test(name)) {
    throw r.fail(
      path,
      `'${name}' is not a usable model name (letters, digits and . _ : / @ -, at most 128 characters)`,
    );
  }
}

export interface BuildRoutingOptions {
  flags: RoutingFlags;
  /** A parsed routing file and its name for messages. */
  file?: { source: string; document: unknown };
  /** Names of the embedded (`--model`) models: they may have fallbacks and be fallbacks. */
  embedded: readonly string[];
  env: Env;
}

/** Flags and the routing file → the validated routing tree. */
export function buildRoutingConfig(options: BuildRoutingOptions): RoutingConfig {
  const { flags, env, embedded } = options;
  const fromFile = options.file
    ? readRoutingDocument(options.file.document, options.file.source, env)
    : { defaults: {}, drafts: [] };
  const drafts = new Map<string, DraftRoute>();
  for (const draft of fromFile.drafts) drafts.set(draft.name, draft);

  const flagTimeout =
    flags.upstreamTimeout === undefined ? undefined : parseDurationMs(flags.upstreamTimeout, "--upstream-timeout");
  if (flagTimeout === 0) throw new RoutingConfigError("--upstream-timeout: must be longer than 0");
  const flagTargets = new Map<string, UpstreamTargetConfig[]>();
  for (const text of flags.upstream ?? []) {
    const { name, target } = parseUpstreamFlag(text, {
      env,
      ...(flags.upstreamKeyEnv === undefined ? {} : { defaultKeyEnv: flags.upstreamKeyEnv }),
    });
    const list = flagTargets.get(name) ?? [];
    if (list.some((t) => t.url === target.url)) {
      throw new RoutingConfigError(`--upstream: ${target.url} is given twice for '${name}'`);
    }
    list.push(target);
    flagTargets.set(name, list);
  }
  for (const [name, targets] of flagTargets) {
    const existing = drafts.get(name);
    if (existing && existing.targets.length > 0) {
      throw new RoutingConfigError(
        `--upstream ${name}: '${name}' already has targets in ${existing.origin}; give them in one place`,
      );
    }
    const settings: RouteSettings = { ...(existing?.settings ?? {}) };
    if (flagTimeout !== undefined) settings.timeoutMs = flagTimeout;
    drafts.set(name, { name, targets, fallback: existing?.fallback ?? [], settings, origin: "--upstream" });
  }
  for (const text of flags.fallback ?? []) {
    const eq = text.indexOf("=");
    const name = eq > 0 ? text.slice(0, eq) : "";
    const list =
      eq > 0
        ? text
            .slice(eq + 1)
            .split(",")
            .filter((s) => s !== "")
        : [];
    if (name === "" || list.length === 0) {
      throw new RoutingConfigError(`--fallback ${text}: expected NAME=FALLBACK[,FALLBACK…] (example: big=small)`);
    }
    checkName(name, "--fallback");
    const draft = drafts.get(name) ?? { name, targets: [], fallback: [], settings: {}, origin: "--fallback" };
    draft.fallback = [...draft.fallback, ...list];
    drafts.set(name, draft);
  }

  const embeddedSet = new Set(embedded);
  const served = new Set([...embedded, ...[...drafts.values()].filter((d) => d.targets.length > 0).map((d) => d.name)]);
  const routes: ModelRouteConfig[] = [];
  for (const draft of drafts.values()) {
    if (draft.targets.length > 0 && embeddedSet.has(draft.name)) {
      throw new RoutingConfigError(
        `${draft.origin}: '${draft.name}' is served by --model already; an upstream needs its own name`,
      );
    }
    if (draft.targets.length === 0 && !embeddedSet.has(draft.name)) {
      throw new RoutingConfigError(
        `${draft.origin}: '${draft.name}' has no targets and is not a --model (give it targets or an --upstream)`,
      );
    }
    const seen = new Set<string>();
    for (const fallback of draft.fallback) {
      if (fallback === draft.name)
        throw new RoutingConfigError(`${draft.origin}: '${draft.name}' falls back to itself`);
      if (!served.has(fallback)) {
        throw new RoutingConfigError(
          `${draft.origin}: '${draft.name}' falls back to '${fallback}', which is neither a --model nor an upstream`,
        );
      }
      if (seen.has(fallback))
        throw new RoutingConfigError(`${draft.origin}: '${draft.name}' lists '${fallback}' twice`);
      seen.add(fallback);
    }
    routes.push(resolveRoute(draft, fromFile.defaults));
  }
  return { routes };
}

function resolveRoute(draft: DraftRoute, defaults: RouteSettings): ModelRouteConfig {
  const s = draft.settings;
  const timeoutMs = s.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  return {
    name: draft.name,
    targets: draft.targets,
    timeoutMs,
    idleTimeoutMs: s.idleTimeoutMs ?? defaults.idleTimeoutMs ?? timeoutMs,
    retries: { ...DEFAULT_RETRIES, ...defaults.retries, ...s.retries },
    health: { ...DEFAULT_HEALTH, ...defaults.health, ...s.health },
    fallback: draft.fallback,
    fallbackOn: s.fallbackOn ?? defaults.fallbackOn ?? [...FAILURE_KINDS],
  };
}
