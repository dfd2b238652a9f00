/**
 * One load-test request and its timing: an OpenAI chat or text completion (streamed: time to the first
 * token's chunk and per output token; whole: end to end), or any other request (an MLflow `/invocations`
 * call, a scenario's GET), which passes on a 2xx status. On
 * `node:http` with a keep-alive agent, so the figures are the server's and not a client's handshakes.
 * Every failure becomes a sample with a kind (`http_503`, `connect`, `timeout`, `stream_error`,
 * `bad_response`), never an exception.
 */
import http, { type Agent, type IncomingMessage } from "node:http";
import https from "node:https";
import { SseDecoder } from "../upstream/sse-decoder.js";
import type { RequestSample } from "./load-report.js";

/** One request to send. */
export interface PlannedRequest {
  /** The endpoint's full URL. */
  readonly url: URL;
  readonly method: string;
  readonly body: string | undefined;
  /** Read the answer as server-sent events (when the server sends them). */
  readonly stream: boolean;
  /** `openai`: the answer must be an OpenAI completion (choices, usage); `plain`: any 2xx passes. */
  readonly kind: "openai" | "plain";
  readonly headers: Readonly<Record<string, string>>;
  /** Scenario files: the template's name. */
  readonly template?: string;
}

export interface RequestPlan {
  readonly protocol: "openai" | "mlflow";
  /** The endpoint's full URL (a scenario's: the base URL). */
  readonly url: URL;
  readonly endpoint: string;
  readonly stream: boolean;
  readonly timeoutMs: number;
  /** Request number `index`. */
  request(index: number): PlannedRequest;
}

export function newLoadAgent(url: URL, sockets: number): Agent {
  const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
  return url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

const WORDS = [
  "time",
  "people",
  "water",
  "light",
  "music",
  "river",
  "garden",
  "market",
  "window",
  "story",
  "paper",
  "friend",
  "morning",
  "city",
  "mountain",
  "voice",
  "answer",
  "number",
  "letter",
  "circle",
  "table",
  "forest",
  "winter",
  "road",
];

/** About `tokens` tokens of words (common words are one token each in BPE vocabularies), different per request. */
export function syntheticPrompt(index: number, tokens: number): string {
  let state = (index * 2654435761) >>> 0 || 1;
  const words: string[] = [`Request ${index}:`];
  for (let i = 4; i < tokens; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words.push(WORDS[(state >>> 0) % WORDS.length]!);
  }
  return words.join(" ");
}

export async function runRequest(
  plan: RequestPlan,
  index: number,
  agent: Agent,
  stop: AbortSignal,
): Promise<RequestSample> {
  const request = plan.request(index);
  const sample = await runPlanned(request, plan.timeoutMs, agent, stop);
  return request.template === undefined ? sample : { ...sample, template: request.template };
}

async function runPlanned(
  plan: PlannedRequest,
  timeoutMs: number,
  agent: Agent,
  stop: AbortSignal,
): Promise<RequestSample> {
  const body = plan.body;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, stop]);
  const started = performance.now();
  const fail = (errorKind: string): RequestSample => ({
    ok: false,
    latencyMs: performance.now() - started,
    outputTokens: 0,
    errorKind,
  });
  let res: IncomingMessage;
  try {
    res = await send(plan, body, agent, signal);
  } catch (error) {
    return fail(timeout.aborted ? "timeout" : stop.aborted ? "cancelled" : connectKind(error));
  }
  try {
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      res.resume();
      return fail(`http_${status}`);
    }
    if (plan.kind === "plain") {
      await drain(res);
      return { ok: true, latencyMs: performance.now() - started, outputTokens: 0 };
    }
    const streaming = plan.stream && String(res.headers["content-type"] ?? "").includes("text/event-stream");
    return streaming ? await readStream(res, started) : await readWhole(res, started);
  } catch (error) {
    if (timeout.aborted) return fail("timeout");
    if (stop.aborted) return fail("cancelled");
    return fail(error instanceof BadResponse ? error.kind : "connection_lost");
  }
}

class BadResponse extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

function send(
  plan: PlannedRequest,
  body: string | undefined,
  agent: Agent,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = plan.url.protocol === "https:" ? https.request : http.request;
    const req = request(plan.url, {
      method: plan.method,
      agent,
      signal,
      headers:
        body === undefined
          ? plan.headers
          : { "content-type": "application/json", ...plan.headers, "content-length": Buffer.byteLength(body) },
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end(body);
  });
}

function connectKind(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNREFUSED") return "connect_refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection_reset";
  return "connect";
}

async function drain(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parse(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadResponse("bad_response");
  }
  if (!isObject(value)) throw new BadResponse("bad_response");
  return value;
}

function usageOf(body: Json): { prompt?: number; completion?: number } {
  const usage = body.usage;
  if (!isObject(usage)) return {};
  return {
    ...(typeof usage.prompt_tokens === "number" ? { prompt: usage.prompt_tokens } : {}),
    ...(typeof usage.completion_tokens === "number" ? { completion: usage.completion_tokens } : {}),
  };
}

function chunkText(choice: unknown): string {
  if (!isObject(choice)) return "";
  // text completions carry `text`, chat ones `delta` (streamed) or `message`
  if (typeof choice.text === "string") return choice.text;
  const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : undefined;
  return delta && typeof delta.content === "string" ? delta.content : "";
}

async function readWhole(res: IncomingMessage, started: number): Promise<RequestSample> {
  const body = parse(await drain(res));
  const latencyMs = performance.now() - started;
  if (!Array.isArray(body.choices)) throw new BadResponse("bad_response");
  const usage = usageOf(body);
  return {
    ok: true,
    latencyMs,
    outputTokens: usage.completion ?? 0,
    ...(usage.prompt === undefined ? {} : { promptTokens: usage.prompt }),
  };
}

async function readStream(res: IncomingMessage, started: number): Promise<RequestSample> {
  const sse = new SseDecoder();
  let ttftMs: number | undefined;
  let chunks = 0;
  let usage: { prompt?: number; completion?: number } = {};
  let done = false;
  const take = (events: readonly { data: string }[]) => {
    for (const { data } of events) {
      if (done) return;
      if (data === "[DONE]") {
        done = true;
        return;
      }
      const chunk = parse(data);
      if (chunk.error !== undefined && chunk.error !== null) throw new BadResponse("stream_error");
      const u = usageOf(chunk);
      if (u.completion !== undefined) usage = u;
      if (!Array.isArray(chunk.choices)) continue;
      for (const choice of chunk.choices as unknown[]) {
        if (chunkText(choice) !== "") {
          ttftMs ??= performance.now() - started;
          chunks++;
        }
      }
    }
  };
  for await (const chunk of res as AsyncIterable<Buffer>) take(sse.push(chunk));
  take(sse.end());
  const latencyMs = performance.now() - started;
  if (!done) throw new BadResponse("stream_cut_short");
  const outputTokens = usage.completion ?? chunks;
  return {
    ok: true,
    latencyMs,
    outputTokens,
    ...(ttftMs === undefined ? {} : { ttftMs }),
    ...(ttftMs !== undefined && outputTokens > 1 ? { tpotMs: (latencyMs - ttftMs) / (outputTokens - 1) } : {}),
    ...(usage.prompt === undefined ? {} : { promptTokens: usage.prompt }),
  };
}
