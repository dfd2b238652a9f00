/**
 * MLflow Tracing's routes (`tracingRoutes` in protocol): MLflow 3's under `/api/3.0` and `/ajax-api/3.0`, MLflow 2's
 * search and delete under `/api/2.0` and `/ajax-api/2.0`.
 *
 * Not mounted through `mountRouteTable`: its generic validator cannot check free JSON (spans) nor name a field inside
 * a list, and two routes take the trace id from the path. The service validates each request instead; the handlers
 * hand it the body, the query string and the path's trace id, and write its answer. Bodies are capped at
 * TRACE_LIMITS.maxBodyBytes (413, RESOURCE_EXHAUSTED, beyond).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { stringifyJson, TRACE_LIMITS, tracingRoutes, type RouteSpec } from "@slipway/protocol";
import type { TraceService } from "./trace-service.js";

type Handler = (request: FastifyRequest) => Promise<unknown>;

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type("application/json").send(stringifyJson(body));
}

function param(request: FastifyRequest, name: string): unknown {
  return (request.params as Record<string, unknown> | undefined)?.[name];
}

/** DELETE's fields: the JSON body when one came, else the query string. */
function bodyOrQuery(request: FastifyRequest): unknown {
  const body = request.body;
  return body !== undefined && body !== null && typeof body === "object" && Object.keys(body).length > 0
    ? body
    : request.query;
}

export function registerTraceRoutes(app: FastifyInstance, service: TraceService): void {
  const r = tracingRoutes;
  const handlers: [RouteSpec, Handler][] = [
    [r.startTraceV3, (q) => service.startTraceV3(q.body)],
    [r.getTrace, (q) => service.getTrace(q.query)],
    [r.batchGetTraces, (q) => service.batchGetTraces(q.query)],
    [r.searchTracesV3, (q) => service.searchTracesV3(q.body)],
    [r.deleteTracesV3, (q) => service.deleteTraces(q.body)],
    [r.getTraceInfoV3, (q) => service.getTraceInfoV3(param(q, "trace_id"))],
    [r.setTraceTagV3, (q) => service.setTraceTag(param(q, "trace_id"), q.body)],
    [r.deleteTraceTagV3, (q) => service.deleteTraceTag(param(q, "trace_id"), bodyOrQuery(q))],
    [r.searchTraces, (q) => service.searchTraces(q.query)],
    [r.deleteTraces, (q) => service.deleteTraces(q.body)],
  ];
  for (const [spec, handle] of handlers) {
    const version = spec.apiVersion ?? "2.0";
    for (const prefix of [`/api/${version}`, `/ajax-api/${version}`]) {
      app.route({
        method: spec.method,
        url: `${prefix}${spec.path}`,
        bodyLimit: TRACE_LIMITS.maxBodyBytes,
        handler: async (request, reply) => send(reply, await handle(request)),
      });
    }
  }
}
