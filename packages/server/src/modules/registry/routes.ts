/** Mounts every model-registry RPC of the route table under /api/2.0 and /ajax-api/2.0. Handlers are thin. */
import type { FastifyInstance } from "fastify";
import {
  compileValidator,
  registryRoutes,
  stringifyJson,
  type RegistryMethod,
  type RouteSpec,
} from "@slipway/protocol";
import { API_PREFIXES } from "../tracking/routes.js";
import type { RegistryService } from "./registry-service.js";

export function registerRegistryRoutes(app: FastifyInstance, service: RegistryService): void {
  for (const [name, spec] of Object.entries(registryRoutes) as [RegistryMethod, RouteSpec][]) {
    const validate = compileValidator(spec.request);
    const call = service[name].bind(service) as (req: unknown) => Promise<unknown>;
    const methods = [spec.method, ...(spec.alsoMethods ?? [])];
    for (const prefix of API_PREFIXES) {
      app.route({
        method: methods,
        url: `${prefix}${spec.path}`,
        handler: async (request, reply) => {
          // GET reads the query string; every other method (DELETE included) a JSON body
          const input = request.method === "GET" ? request.query : request.body;
          const result = await call(validate(input));
          return reply.type("application/json").send(stringifyJson(result));
        },
      });
    }
  }
}
