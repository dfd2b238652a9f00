/**
 * The inference log and feedback API (`inferenceLogRoutes` in protocol), under `/api/2.0` and `/ajax-api/2.0`.
 *
 * Not mounted through `mountRouteTable`: its generic validator cannot check free JSON (`inputs`, `outputs`, `label`)
 * nor name a field inside a list (`records[3].timestamp_ms`). The service validates each request instead, so the
 * handlers only hand it the body or the query string and write its answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { inferenceLogRoutes, invalidValue, stringifyJson } from "@slipway/protocol";
import { API_PREFIXES } from "../../platform/http/route-table.js";
import type { InferenceLogService } from "./inference-log-service.js";

/** The JSON body (or query string) as an object; an absent body is an empty one. */
function fields(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidValue("request", value, "a JSON object");
  return value as Record<string, unknown>;
}

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type("application/json").send(stringifyJson(body));
}

export function registerInferenceLogRoutes(app: FastifyInstance, service: InferenceLogService): void {
  const { logInferences, addFeedback, searchInferenceLog, getInferenceLogStats } = inferenceLogRoutes;
  for (const prefix of API_PREFIXES) {
    app.post(`${prefix}${logInferences.path}`, async (request: FastifyRequest, reply) =>
      send(reply, await service.append(fields(request.body))),
    );
    app.post(`${prefix}${addFeedback.path}`, async (request: FastifyRequest, reply) =>
      send(reply, await service.addFeedback(fields(request.body))),
    );
    app.get(`${prefix}${searchInferenceLog.path}`, async (request: FastifyRequest, reply) =>
      send(reply, await service.search(fields(request.query))),
    );
    app.get(`${prefix}${getInferenceLogStats.path}`, async (request: FastifyRequest, reply) =>
      send(reply, await service.stats(fields(request.query))),
    );
  }
}
