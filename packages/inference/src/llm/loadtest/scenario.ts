/**
 * Load-test scenario files (`slipway loadtest URL --scenario FILE.json`): one or more weighted request
 * templates, each request of the run drawn from them by weight (deterministically per request number, so two
 * runs send the same mix in the same order):
 *
 * ```json
 * { "requests": [
 *   { "name": "short-chat", "weight": 3, "path": "/chat/completions", "stream": true,
 *     "body": { "messages": [{ "role": "user", "content": "{{prompt}}" }], "max_tokens": 32 } },
 *   { "name": "models", "method": "GET", "path": "/models" }
 * ] }
 * ```
 *
 * `path` is appended to the URL given on the command line. `{{prompt}}` in a body string becomes a synthetic
 * prompt of `--prompt-tokens` tokens (different per request) and `{{index}}` the request's number. Requests to
 * `…/chat/completions` and `…/completions` are read as OpenAI answers (tokens, TTFT when streamed; `model` from
 * `--model` and `stream`/`stream_options` from the template's `stream` are added to the body when absent);
 * any other path counts as a success on a 2xx status.
 */

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

export type TemplateMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestTemplate {
  readonly name: string;
  readonly weight: number;
  readonly method: TemplateMethod;
  /** Appended to the base URL: `/chat/completions`. */
  readonly path: string;
  /** JSON to send (none for GET). */
  readonly body: unknown;
  readonly stream: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** `openai` for `…/completions` paths (the answer is read for tokens), else `plain` (any 2xx passes). */
  readonly kind: "openai" | "plain";
}

export interface Scenario {
  readonly templates: readonly RequestTemplate[];
}

const METHODS: readonly TemplateMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const TEMPLATE_FIELDS = new Set(["name", "weight", "method", "path", "body", "stream", "headers"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a scenario file's JSON text; `source` names it in errors. */
export function parseScenario(text: string, source = "scenario"): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${source}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new ScenarioError(`${source}: must be a JSON object with a "requests" array`);
  for (const key of Object.keys(value)) {
    if (key !== "requests" && key !== "description") {
      throw new ScenarioError(`${source}: unknown field '${key}' (known: requests, description)`);
    }
  }
  if (value.description !== undefined && typeof value.description !== "string") {
    throw new ScenarioError(`${source}: description: must be a string`);
  }
  const requests = value.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new ScenarioError(`${source}: requests: must be a non-empty array of request templates`);
  }
  const templates = requests.map((t, i) => parseTemplate(t, `${source}: requests[${i}]`, i));
  const names = new Set<string>();
  for (const [i, t] of templates.entries()) {
    if (names.has(t.name)) throw new ScenarioError(`${source}: requests[${i}].name: '${t.name}' is used twice`);
    names.add(t.name);
  }
  return { templates };
}

function parseTemplate(value: unknown, at: string, index: number): RequestTemplate {
  if (!isObject(value)) throw new ScenarioError(`${at}: must be an object`);
  for (const key of Object.keys(value)) {
    if (!TEMPLATE_FIELDS.has(key)) {
      throw new ScenarioError(`${at}: unknown field '${key}' (known: ${[...TEMPLATE_FIELDS].join(", ")})`);
    }
  }
  const name = value.name ?? `request ${index + 1}`;
  if (typeof name !== "string" || name.trim() === "") throw new ScenarioError(`${at}.name: must be a non-empty string`);
  const weight = value.weight ?? 1;
  if (typeof weight !== "number" || !(weight > 0) || !Number.isFinite(weight)) {
    throw new ScenarioError(`${at}.weight: must be a number above 0, got ${JSON.stringify(weight)}`);
  }
  const method = value.method ?? "POST";
  if (typeof method !== "string" || !METHODS.includes(method.toUpperCase() as TemplateMethod)) {
    throw new ScenarioError(`${at}.method: ${JSON.stringify(method)} is not one of ${METHODS.join(", ")}`);
  }
  const upper = method.toUpperCase() as TemplateMethod;
  const path = value.path;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new ScenarioError(`${at}.path: must be a string starting with '/' (e.g. "/chat/completions")`);
  }
  if (upper === "GET" && value.body !== undefined) throw new ScenarioError(`${at}.body: a GET request has no body`);
  const stream = value.stream ?? false;
  if (typeof stream !== "boolean") throw new ScenarioError(`${at}.stream: must be true or false`);
  const headers = value.headers ?? {};
  if (!isObject(headers)) throw new ScenarioError(`${at}.headers: must be an object of strings`);
  for (const [key, header] of Object.entries(headers)) {
    if (typeof header !== "string") throw new ScenarioError(`${at}.headers.${key}: must be a string`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new ScenarioError(`${at}.headers: '${key}' is not a header name`);
    }
  }
  const kind = /\/(chat\/)?completions$/.test(path.replace(/\?.*$/, "")) ? "openai" : "plain";
  if (stream && kind !== "openai") {
    throw new ScenarioError(
      `${at}.stream: streaming is read for OpenAI paths only (…/chat/completions, …/completions)`,
    );
  }
  if (kind === "openai" && upper !== "POST") throw new ScenarioError(`${at}.method: OpenAI completions are POSTed`);
  if (kind === "openai" && !isObject(value.body)) {
    throw new ScenarioError(`${at}.body: an OpenAI completion request needs a JSON object body`);
  }
  return {
    name,
    weight,
    method: upper,
    path,
    body: value.body,
    stream,
    headers: headers as Record<string, string>,
    kind,
  };
}

/** The template of request number `index`: drawn by weight, the same for the same index. */
export function pickTemplate(templates: readonly RequestTemplate[], index: number): RequestTemplate {
  if (templates.length === 1) return templates[0]!;
  let total = 0;
  for (const t of templates) total += t.weight;
  // a hash of the index (mulberry32 step), uniform on [0, 1)
  let x = (index + 0x6d2b79f5) >>> 0;
  x = Math.imul(x ^ (x >>> 15), x | 1);
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
  let u = (((x ^ (x >>> 14)) >>> 0) / 4294967296) * total;
  for (const t of templates) {
    u -= t.weight;
    if (u < 0) return t;
  }
  return templates.at(-1)!;
}

/**
 * The JSON text of a template's body for request `index`: `{{prompt}}` and `{{index}}` filled in; for OpenAI
 * templates `model` (when given) and, streaming, `stream` and `stream_options` added unless already there.
 */
export function templateBody(
  template: RequestTemplate,
  index: number,
  fill: { prompt: () => string; model?: string | undefined },
): string | undefined {
  if (template.body === undefined) return undefined;
  let body = template.body;
  if (template.kind === "openai" && isObject(body)) {
    body = {
      ...(fill.model === undefined || "model" in body ? {} : { model: fill.model }),
      ...body,
      ...(template.stream && !("stream" in body) ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  }
  const text = JSON.stringify(body);
  if (!text.includes("{{")) return text;
  let prompt: string | undefined;
  return text.replace(/\{\{(prompt|index)\}\}/g, (_, name: string) => {
    if (name === "index") return String(index);
    prompt ??= JSON.stringify(fill.prompt()).slice(1, -1);
    return prompt;
  });
}
