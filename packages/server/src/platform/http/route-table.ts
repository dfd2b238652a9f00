/**
 * Mounts a route table (protocol's data: method, path, request schema) under /api/2.0 and /ajax-api/2.0.
 * Handlers stay thin: validate the request from the query string (GET) or the JSON body (every other
 * method, DELETE included), call the service, write JSON.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { compileValidator, stringifyJson, type RouteSpec } from "@slipway/protocol";

export const API_PREFIXES = ["/api/2.0", "/ajax-api/2.0"] as const;

/** A response body written as it is produced (already-serialised JSON bytes), instead of an object. */
export class StreamedJson {
  constructor(readonly body: AsyncIterable<Uint8Array>) {}
}

export type RouteHandler<N extends string> = (name: N, request: unknown, http: FastifyRequest) => Promise<unknown>;

export function mountRouteTable<N extends string>(
  app: FastifyInstance,
  routes: Readonly<Record<N, RouteSpec>>,
  handle: RouteHandler<N>,
): void {
  for (const [name, spec] of Object.entries(routes) as [N, RouteSpec][]) {
    const validate = compileValidator(spec.request);
    for (const prefix of API_PREFIXES) {
      app.route({
        method: [spec.method, ...(spec.alsoMethods ?? [])],
        url: `${prefix}${spec.path}`,
        handler: async (request, reply) => {
          const req = validate(request.method === "GET" ? request.query : request.body);
          const result = await handle(name, req, request);
          reply.type("application/json");
          return result instanceof StreamedJson
            ? reply.send(Readable.from(result.body, { objectMode: false }))
            : reply.send(stringifyJson(result));
        },
      });
    }
  }
}
