/**
 * The LLM server's Fastify app: the OpenAI routes, bodies read as text whatever their content type
 * (clients and curl differ; the handlers parse JSON themselves), and one error writer, so that every
 * failure — bad JSON, a body over the limit, an unknown path, an unknown model, an engine error — is
 * answered in OpenAI's error format with its status, never as a bare 500, and the server keeps serving.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Registry } from "prom-client";
import { LlmError, toLlmError } from "../errors.js";
import { llmRoutes } from "./llm-routes.js";
import type { ModelRouter } from "./model-router.js";
import type { LlmAccess } from "./llm-access.js";
import { randomId } from "../engine/random-ids.js";

/** Largest request body: prompts and embedding inputs of a few MB are plausible; more is a mistake. */
export const DEFAULT_LLM_BODY_LIMIT = 16 * 1024 * 1024;

export interface LlmAppOptions {
  router: ModelRouter;
  bodyLimit?: number;
  logger?: FastifyServerOptions["logger"];
  /** Served at `/metrics` (Prometheus text format) when given. */
  metrics?: Registry;
  /** Keys, rate limits, usage and vLLM's metrics (`GET /v1/usage` too); absent: none of them. */
  access?: LlmAccess;
}

interface FastifyClientError {
  statusCode?: number;
  code?: string;
  message?: string;
}

export async function buildLlmApp(options: LlmAppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_LLM_BODY_LIMIT;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    genReqId: () => `req_${randomId(12)}`,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_request, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  if (options.access) app.addHook("onRequest", options.access.authenticate);

  app.setErrorHandler(async (error, request, reply) => {
    const mapped = fromFastifyError(error, bodyLimit);
    const { error: llmError, internal } = mapped ? { error: mapped, internal: false } : toLlmError(error);
    // a client that disconnected mid-request made its own generation fail: nothing to report or send
    if (reply.raw.destroyed) return;
    if (internal) request.log.error({ err: error }, "request failed");
    if (llmError.retryAfterSeconds !== undefined) reply.header("retry-after", String(llmError.retryAfterSeconds));
    await reply.status(llmError.status).type("application/json").send(JSON.stringify(llmError.toJSON()));
  });

  app.setNotFoundHandler(async (request, reply) => {
    const url = request.url.split("?")[0]!;
    const error = new LlmError(`Invalid URL (${request.method} ${url})`, {
      status: 404,
      type: "invalid_request_error",
    });
    await reply.status(404).type("application/json").send(JSON.stringify(error.toJSON()));
  });

  for (const route of llmRoutes(options.router, options.metrics, options.access)) {
    app.route({ method: route.method, url: route.path, handler: route.handler });
  }
  return app;
}

/** Fastify's own client errors (413 body too large, 400 bad framing...) as OpenAI errors. */
function fromFastifyError(error: unknown, bodyLimit: number): LlmError | undefined {
  if (error instanceof LlmError) return undefined;
  const e = (error ?? {}) as FastifyClientError;
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE" || e.statusCode === 413) {
    return new LlmError(`The request body is larger than the limit of ${bodyLimit} bytes.`, {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
    });
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new LlmError(e.message ?? "Bad request", { status: e.statusCode, type: "invalid_request_error" });
  }
  return undefined;
}
