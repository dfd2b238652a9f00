/**
 * The OpenAI-compatible routes, as a table: each handler parses the body into a typed request, asks the
 * model's provider, and writes the answer. Handlers know nothing of engines; providers nothing of HTTP.
 *
 * Every request gets an `x-request-id`; body fields the server does not act on are accepted and named
 * in `x-slipway-ignored-params`. Generations are cancelled when the client's connection closes.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import { invalidRequest, LlmError, modelNotFound } from "../errors.js";
import { parseChatRequest } from "../openai/chat-request.js";
import { parseCompletionRequest } from "../openai/completion-request.js";
import { parseEmbeddingRequest } from "../openai/embedding-request.js";
import { embeddingList } from "../openai/embedding-response.js";
import type { WireModel, WireModelList } from "../openai/wire-types.js";
import type { ModelRouter } from "./model-router.js";
import { serveGeneration } from "./serve-generation.js";
import type { Admission, LlmAccess } from "./llm-access.js";
import { randomId } from "../engine/random-ids.js";

export interface LlmRoute {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export const IGNORED_PARAMS_HEADER = "x-slipway-ignored-params";

/** With `access`: keys, limits, usage accounting and vLLM's metrics (see llm-access.ts). */
export function llmRoutes(router: ModelRouter, metrics?: Registry, access?: LlmAccess): LlmRoute[] {
  /** Runs `call` (the provider's answer) for an admitted request, counting a refusal as the key's error. */
  const provided = async <T>(admission: Admission | undefined, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      admission?.failed(error);
      throw error;
    }
  };
  return [
    ...(metrics === undefined ? [] : [metricsRoute(metrics)]),
    ...(access === undefined ? [] : [usageRoute(access)]),
    {
      method: "GET",
      path: "/v1/models",
      handler: async (request, reply) => {
        const visible = router.models().filter((m) => access?.canUse(request, m.card.id) ?? true);
        const body: WireModelList = { object: "list", data: visible.map((m) => wireModel(m.card)) };
        await reply.send(body);
      },
    },
    {
      method: "GET",
      path: "/v1/models/:model",
      handler: async (request, reply) => {
        const { model } = request.params as { model: string };
        if (access && !access.canUse(request, model)) throw modelNotFound(model);
        await reply.send(wireModel(router.resolve(model).card));
      },
    },
    {
      method: "POST",
      path: "/v1/chat/completions",
      handler: async (request, reply) => {
        const started = performance.now();
        const parsed = parseChatRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const admission = access?.admit(request, reply, parsed.request.model, started);
        admission?.traced({
          kind: "chat",
          input: parsed.request.messages,
          streaming: parsed.stream,
          engine: provider.kind,
        });
        const signal = clientSignal(reply);
        const stream = await provided(admission, () => provider.chat(parsed.request, signal));
        const toolMode = stream.toolCalls;
        const tools = parsed.request.tools;
        await serveGeneration({
          ...(toolMode && tools ? { tools: { mode: toolMode, names: new Set(tools.tools.map((t) => t.name)) } } : {}),
          reply,
          kind: "chat",
          identity: { id: `chatcmpl-${newId()}`, created: now(), model: parsed.request.model },
          stream: admission ? admission.observe(stream, signal) : stream,
          streaming: parsed.stream,
          includeUsage: parsed.includeUsage,
          headers: { ...responseHeaders(request, parsed.ignored), ...admission?.headers },
        });
      },
    },
    {
      method: "POST",
      path: "/v1/completions",
      handler: async (request, reply) => {
        const started = performance.now();
        const parsed = parseCompletionRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const admission = access?.admit(request, reply, parsed.request.model, started);
        admission?.traced({
          kind: "completion",
          input: parsed.request.prompts,
          streaming: parsed.stream,
          engine: provider.kind,
        });
        const signal = clientSignal(reply);
        const stream = await provided(admission, () => provider.complete(parsed.request, signal));
        await serveGeneration({
          reply,
          kind: "completion",
          identity: { id: `cmpl-${newId()}`, created: now(), model: parsed.request.model },
          stream: admission ? admission.observe(stream, signal) : stream,
          streaming: parsed.stream,
          includeUsage: parsed.includeUsage,
          headers: { ...responseHeaders(request, parsed.ignored), ...admission?.headers },
        });
      },
    },
    {
      method: "POST",
      path: "/v1/embeddings",
      handler: async (request, reply) => {
        const started = performance.now();
        const parsed = parseEmbeddingRequest(jsonBody(request.body));
        const { provider } = router.resolve(parsed.request.model);
        const admission = access?.admit(request, reply, parsed.request.model, started);
        const result = await provided(admission, () => provider.embed(parsed.request, clientSignal(reply)));
        admission?.embedded(result.promptTokens);
        await reply
          .headers({ ...responseHeaders(request, parsed.ignored), ...admission?.headers })
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

/**
 * `GET /v1/usage`: the calling key's totals (requests, tokens, errors; overall and per model). An admin key
 * (or control-plane admin) may name another key (`?key=NAME`) or, without it, gets every key's usage; so
 * does anyone when the server has no auth.
 */
function usageRoute(access: LlmAccess): LlmRoute {
  return {
    method: "GET",
    path: "/v1/usage",
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const asked = query.key;
      if (asked !== undefined && (typeof asked !== "string" || asked === "")) {
        throw invalidRequest("'key' must be the name of one API key", "key", "invalid_type");
      }
      const caller = access.caller(request);
      const admin = access.auth === undefined || caller?.admin === true;
      if (asked !== undefined && !admin && asked !== caller?.name) {
        throw new LlmError("Only an admin key may read another key's usage.", {
          status: 403,
          type: "invalid_request_error",
          param: "key",
          code: "insufficient_permissions",
        });
      }
      if (asked !== undefined || (caller !== undefined && !admin)) {
        await reply.send(access.ledger.usage(asked ?? caller!.name));
        return;
      }
      await reply.send({ object: "list", data: access.ledger.keys().map((key) => access.ledger.usage(key)) });
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
  return randomId(12);
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
