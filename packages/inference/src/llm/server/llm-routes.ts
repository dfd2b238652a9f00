/**
 * The OpenAI-compatible routes, as a table: each handler parses the body into a typed request, asks the
 * model's provider, and writes the answer. Handlers know nothing of engines; providers nothing of HTTP.
 *
 * Every request gets an `x-request-id`; body fields the server does not act on are accepted and named
 * in `x-slipway-ignored-params`. Generations are cancelled when the client's connection closes.
 */
import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import { invalidRequest } from "../errors.js";
import { parseChatRequest } from "../openai/chat-request.js";
import { parseCompletionRequest } from "../openai/completion-request.js";
import { parseEmbeddingRequest } from "../openai/embedding-request.js";
import { embeddingList } from "../openai/embedding-response.js";
import type { WireModel, WireModelList } from "../openai/wire-types.js";
import type { ModelRouter } from "./model-router.js";
import { serveGeneration } from "./serve-generation.js";

export interface LlmRoute {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export const IGNORED_PARAMS_HEADER = "x-slipway-ignored-params";

export function llmRoutes(router: ModelRouter, metrics?: Registry): LlmRoute[] {
  return [
    ...(metrics === undefined ? [] : [metricsRoute(metrics)]),
    {
      method: "GET",
      path: "/v1/models",
      handler: async (_request, reply) => {
        const body: WireModelList = { object: "list", data: router.models().map((m) => wireModel(m.card)) };
        await reply.send(body);
      },
    },
    {
      method: "GET",
      path: "/v1/models/:model",
      handler: async (request, reply) => {
        const { model } = request.params as { model: string };
        await reply.send(wireModel(router.resolve(model).card));
      },
    },
    {
      method: "POST",
      path: "/v1/chat/completions",
      handler: async (request, reply) => {
        const parsed = parseChatRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const signal = clientSignal(reply);
        const stream = await provider.chat(parsed.request, signal);
        await serveGeneration({
          reply,
          kind: "chat",
          identity: { id: `chatcmpl-${newId()}`, created: now(), model: parsed.request.model },
          stream,
          streaming: parsed.stream,
          includeUsage: parsed.includeUsage,
          headers: responseHeaders(request, parsed.ignored),
        });
      },
    },
    {
      method: "POST",
      path: "/v1/completions",
      handler: async (request, reply) => {
        const parsed = parseCompletionRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const signal = clientSignal(reply);
        const stream = await provider.complete(parsed.request, signal);
        await serveGeneration({
          reply,
          kind: "completion",
          identity: { id: `cmpl-${newId()}`, created: now(), model: parsed.request.model },
          stream,
          streaming: parsed.stream,
          includeUsage: parsed.includeUsage,
          headers: responseHeaders(request, parsed.ignored),
        });
      },
    },
    {
      method: "POST",
      path: "/v1/embeddings",
      handler: async (request, reply) => {
        const parsed = parseEmbeddingRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const result = await provider.embed(parsed.request, clientSignal(reply));
        await reply
          .headers(responseHeaders(request, parsed.ignored))
          .type("application/json")
          .send(JSON.stringify(embeddingList(result, parsed.request.model, parsed.encoding)));
      },
    },
    {
      method: "GET",
      path: "/health",
      handler: async (_request, reply) => {
        await reply.send({
          status: "ok",
          models: router
            .models()
            .map(({ card, provider }) => ({ id: card.id, engine: provider.kind, ...provider.load() })),
        });
      },
    },
  ];
}

/** Prometheus text format. */
function metricsRoute(metrics: Registry): LlmRoute {
  return {
    method: "GET",
    path: "/metrics",
    handler: async (_request, reply) => {
      await reply.type(metrics.contentType).send(await metrics.metrics());
    },
  };
}

function wireModel(card: { id: string; created: number; ownedBy: string }): WireModel {
  return { id: card.id, object: "model", created: card.created, owned_by: card.ownedBy };
}

/** The body as JSON (it arrives as text whatever its content type). */
function jsonBody(body: unknown): unknown {
  if (typeof body !== "string" || body.trim() === "") {
    throw invalidRequest("The request body must be a JSON object. See https://platform.openai.com/docs/api-reference.");
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw invalidRequest(
      "We could not parse the JSON body of your request. The API expects a JSON payload, but what was sent was not valid JSON.",
      null,
      "invalid_json",
    );
  }
}

/** Aborts when the client's connection closes before the response is complete. */
function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort(new Error("the client disconnected"));
  });
  return controller.signal;
}

function responseHeaders(request: FastifyRequest, ignored: readonly string[]): Record<string, string> {
  return {
    "x-request-id": request.id,
    ...(ignored.length > 0 ? { [IGNORED_PARAMS_HEADER]: ignored.join(",") } : {}),
  };
}

function newId(): string {
  return randomBytes(12).toString("base64url");
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
