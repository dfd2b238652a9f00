/**
 * Test support: real HTTP servers (node:http, on free ports) that play OpenAI-compatible upstreams
 * which misbehave on purpose — answer 503 with Retry-After, always fail, hang — and a minimal healthy
 * one, each counting what it received and noticing when a client's socket closes. Also a gateway: the
 * same wiring as `slipway llm serve`, with routes and no embedded model unless asked.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Llama } from "node-llama-cpp";
import { loadLlmServeConfig, type LlmServeFlags, type RoutingFile } from "../../llm-serve-config.js";
import { serveLlm, type LlmServing } from "../../serve-llm.js";

export interface ReceivedRequest {
  method: string;
  path: string;
  body: string;
  authorization: string | undefined;
  at: number;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: string, count: number) => void;

export interface FakeUpstream {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + /v1 */
  baseURL: string;
  port: number;
  /** API requests (not /v1/models probes). */
  readonly requests: ReceivedRequest[];
  /** Health probes received. */
  readonly probes: number;
  /** Requests whose socket closed before we answered them. */
  readonly abandoned: number;
  /** Resolves when the next request's socket closes before it was answered. */
  nextAbandoned(): Promise<void>;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export async function startFakeUpstream(handler: FakeHandler, port = 0): Promise<FakeUpstream> {
  const requests: ReceivedRequest[] = [];
  let probes = 0;
  let abandoned = 0;
  let waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      if (req.method === "GET" && (path === "/v1/models" || path === "/health")) {
        probes++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "me" }] }),
        );
        return;
      }
      const body = Buffer.concat(chunks).toString();
      requests.push({
        method: req.method ?? "",
        path,
        body,
        authorization: req.headers.authorization,
        at: performance.now(),
      });
      res.once("close", () => {
        if (!res.writableFinished) {
          abandoned++;
          const now = waiters;
          waiters = [];
          for (const w of now) w();
        }
      });
      handler(req, res, body, requests.length);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const actual = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actual}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port: actual,
    requests,
    get probes() {
      return probes;
    },
    get abandoned() {
      return abandoned;
    },
    nextAbandoned: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    restart: async () => {
      server.listen(actual, "127.0.0.1");
      await once(server, "listening");
    },
  };
}

/** A chat answer of `text` for the request's `stream` setting, as OpenAI frames it. */
export function answerChat(res: ServerResponse, body: string, text: string): void {
  const request = JSON.parse(body) as { stream?: boolean; model?: string };
  const base = { id: "chatcmpl-fake", created: 1, model: request.model ?? "fake-model" };
  const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
  if (!request.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra })}\n\n`;
  res.write(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
  const half = Math.ceil(text.length / 2);
  res.write(chunk([{ index: 0, delta: { content: text.slice(0, half) }, finish_reason: null }]));
  res.write(chunk([{ index: 0, delta: { content: text.slice(half) }, finish_reason: null }]));
  res.write(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
  res.write(chunk([], { usage }));
  res.end("data: [DONE]\n\n");
}

export function answerError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ error: { message, type: "server_error", param: null, code: null } }));
}

export interface Gateway {
  serving: LlmServing;
  url: string;
  baseURL: string;
  close(): Promise<void>;
  /** `/metrics` as text. */
  metrics(): Promise<string>;
}

/** `slipway llm serve` in-process with these routing flags (and a routing document, as if from YAML). */
export async function startGateway(
  flags: LlmServeFlags,
  options: { routing?: RoutingFile; llama?: Llama; env?: Record<string, string> } = {},
): Promise<Gateway> {
  const config = loadLlmServeConfig({ port: "0", threads: "1", ...flags }, options.env ?? {}, options.routing);
  const serving = await serveLlm({ config, ...(options.llama ? { llama: options.llama } : {}) });
  const url = serving.server.url;
  return {
    serving,
    url,
    baseURL: `${url}/v1`,
    close: () => serving.server.close({ graceMs: 500 }),
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
  };
}

/** The value of one series in Prometheus text (`name{a="b",…}`), or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf("}");
    const labelText = line.slice(name.length + 1, close);
    const found: Record<string, string> = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(close + 1).trim());
  }
  return undefined;
}
