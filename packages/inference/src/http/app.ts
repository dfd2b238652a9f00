/**
 * The model server's HTTP app: every protocol's routes in one Fastify instance, each protocol in its own
 * scope with its own error writer, so that any failure on its paths — a body over the limit, a bad
 * content type, an input that does not fit the signature, an unknown model — is answered in that
 * protocol's format, never as a bare 500.
 *
 * Bodies are read as text by one catch-all parser (handlers decide by content type, as each protocol
 * demands); the body limit applies to all of them. `/metrics` and `/openapi.json` are served too, and
 * every request is counted by protocol, model and status.
 *
 * Every response carries `x-request-id`: the client's own when it sent a sane one (at most 128 printable
 * ASCII characters), else a fresh UUID; it is also Fastify's request id (logs). With an inference logger,
 * each prediction a handler answers with is offered to it once the response is sent, off the request's
 * latency, with that id and the request's latency.
 */
import { randomUUID } from "node:crypto";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import { kserveRoutes } from "../protocols/kserve-v2.js";
import { invocationModelLabel, mlflowRoutes, sendMlflowError } from "../protocols/mlflow.js";
import { vertexRoutes, type VertexSettings } from "../protocols/vertex.js";
import type { InferenceLogger, ServedPrediction } from "../serving/inference-logger.js";
import type { InferenceMetrics } from "../serving/metrics.js";
import type { ModelSet } from "../serving/model-set.js";
import type { PredictionRouter, ServingContext } from "./context.js";
import type { DataPlaneAuth } from "../auth/data-plane-auth.js";
import { modelServerAuthHook, PUBLIC_OPERATIONS } from "../auth/model-server-auth.js";
import { InferenceError } from "../errors.js";
import { openApiDocument } from "./openapi.js";
import { fastifyPath, pathParams, type ProtocolRoutes } from "./route.js";

/** SageMaker's real-time payload limit: a body above it is answered 413. */
export const DEFAULT_BODY_LIMIT = 6 * 1024 * 1024;

export interface ModelServerAppOptions {
  models: ModelSet;
  metrics: InferenceMetrics;
  /** The server's version (`/version`, `/v2`, the OpenAPI document). */
  version: string;
  vertex: VertexSettings;
  /** Largest request body, in bytes (default 6 MiB). */
  bodyLimit?: number;
  logger?: FastifyServerOptions["logger"];
  /** Samples answered predictions into the inference log (off when absent). */
  inferenceLog?: InferenceLogger;
  /** Chooses the version that answers each request (a deployment's canary and shadow); absent: the served one. */
  router?: PredictionRouter;
  /** Authenticates callers (`--auth control-plane`, `--api-keys`); absent: every request is served. */
  auth?: DataPlaneAuth;
}

/** A client's `x-request-id` worth keeping: 1 to 128 printable ASCII characters. */
const SANE_REQUEST_ID = /^[\x20-\x7e]{1,128}$/;

/** The request's id: the client's `x-request-id` when sane, else a fresh UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === "string" && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

export async function buildModelServerApp(options: ModelServerAppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const log = options.inferenceLog;
  // the prediction each request was answered with, until its response is sent
  const served = log ? new WeakMap<FastifyRequest, ServedPrediction>() : undefined;
  const ctx: ServingContext = { models: options.models, version: options.version, bodyLimit };
  if (options.router) ctx.router = options.router;
  if (served) {
    ctx.recordPrediction = (request, prediction) => {
      served.set(request, prediction);
    };
  }
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // answered by the hook below instead, in the protocol's format
    return503OnClosing: false,
    forceCloseConnections: "idle",
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers["x-request-id"]),
  });

  app.removeAllContentTypeParsers();
  // every body is read as text and decoded by its route (each protocol has its own rules); JSON is named too,
  // because Fastify caches the parser it finds for a named type but parses the header on every request that
  // falls through to the catch-all
  const asText = (_request: FastifyRequest, body: string | Buffer, done: (err: null, body: string | Buffer) => void) =>
    done(null, body);
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, asText);
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, asText);

  const groups: ProtocolRoutes[] = [
    mlflowRoutes(ctx),
    kserveRoutes(ctx),
    vertexRoutes(ctx, options.vertex),
    serverRoutes(ctx, options.metrics),
  ];
  let document = "";
  groups[3]!.routes.push({
    method: "GET",
    path: "/openapi.json",
    operationId: "openApi",
    doc: { summary: "This OpenAPI document", responses: { "200": { description: "OpenAPI 3 document" } } },
    handler: async (_request, reply) => reply.type("application/json").send(document),
  });
  document = JSON.stringify(
    openApiDocument(groups, {
      version: options.version,
      models: options.models.list().map((m) => m.name),
      ...(options.auth ? { security: { schemes: options.auth.schemes, publicOperations: PUBLIC_OPERATIONS } } : {}),
    }),
  );

  for (const group of groups) {
    await app.register((scope, _opts, done) => {
      scope.setErrorHandler((error, _request, reply) => group.sendError(reply, error));
      for (const route of group.routes) {
        scope.route({
          method: route.method,
          url: fastifyPath(route.path, route.literal),
          config: { protocol: group.protocol, operationId: route.operationId },
          handler: route.handler,
        });
      }
      done();
    });
  }

  const kserveErrors = groups[1]!.sendError;
  const mlflowErrors = sendMlflowError(ctx);
  app.setErrorHandler((error, _request, reply) => mlflowErrors(reply, error));
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split("?")[0]!;
    const send = url === "/v2" || url.startsWith("/v2/") ? kserveErrors : mlflowErrors;
    const other = (["GET", "POST"] as const).some(
      (method) => method !== request.method && app.hasRoute({ url, method }),
    );
    const error = other
      ? new InferenceError("BAD_REQUEST", `Method ${request.method} is not allowed for ${url}`, { status: 405 })
      : new InferenceError("ENDPOINT_NOT_FOUND", `No endpoint at ${request.method} ${url}`);
    return send(reply, error);
  });

  // shutting down: requests still arriving on open connections get a 503 in their protocol's format
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", (request, reply, done) => {
    // every answer names its request, errors included
    reply.header("x-request-id", request.id);
    if (!closing) {
      done();
      return;
    }
    reply.header("connection", "close");
    done(new InferenceError("TEMPORARILY_UNAVAILABLE", "The server is shutting down", { retryAfterSeconds: 1 }));
  });
  // with auth: every request but the public probes is authenticated before its body is read
  if (options.auth) app.addHook("onRequest", modelServerAuthHook(options.auth, options.models));
  // ...and every answer sent while shutting down closes its connection, so that a kept-alive one does
  // not hold the shutdown up until its keep-alive timeout
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  const { models, metrics } = options;
  app.addHook("onResponse", (request, reply, done) => {
    const protocol = (request.routeOptions.config as { protocol?: string }).protocol ?? "none";
    const model = modelLabel(models, request, protocol);
    metrics.observeRequest(protocol, model, reply.statusCode, reply.elapsedTime / 1000);
    if (log && served) {
      // after the answer is sent: logging adds nothing to the request's latency
      const prediction = served.get(request);
      if (prediction !== undefined && reply.statusCode === 200) log.offer(request.id, prediction, reply.elapsedTime);
      else if (reply.statusCode >= 400 && request.method === "POST") {
        // a failed prediction request for a served model: one error record, for the monitors' error rates
        const failed = model === "" ? undefined : models.get(model);
        if (failed) log.offerError(request.id, { model: failed, status: reply.statusCode }, reply.elapsedTime);
      }
    }
    done();
  });
  return app;
}

/** The model a request was for, as a metric label: only names actually served (no label explosion). */
function modelLabel(models: ModelSet, request: FastifyRequest, protocol: string): string {
  const name = pathParams(request).name;
  if (name !== undefined) return models.get(name) ? name : "unknown";
  // /invocations: the model the request named (X-Slipway-Model, ?model=), or the only one
  if (request.method === "POST" && protocol === "mlflow") return invocationModelLabel(models, request);
  if (request.method === "POST" && protocol === "vertex" && models.size > 0) {
    return models.default().name;
  }
  return "";
}

function serverRoutes(ctx: ServingContext, metrics: InferenceMetrics): ProtocolRoutes {
  return {
    protocol: "server",
    sendError: sendMlflowError(ctx),
    routes: [
      {
        method: "GET",
        path: "/metrics",
        operationId: "metrics",
        doc: {
          summary: "Prometheus metrics",
          responses: {
            "200": { description: "Prometheus text format", content: { "text/plain": { type: "string" } } },
          },
        },
        handler: async (_request, reply: FastifyReply) => {
          const text = await metrics.text();
          return reply.type(metrics.contentType).send(text);
        },
      },
    ],
  };
}
