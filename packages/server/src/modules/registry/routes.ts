/** Mounts every model-registry RPC of the route table under /api/2.0 and /ajax-api/2.0. Handlers are thin. */
import type { FastifyInstance } from "fastify";
import {
  compileValidator,
  registryHistoryRoutes,
  registryRoutes,
  stringifyJson,
  SLIPWAY_REASON_HEADER,
  type RegistryMethod,
  type RouteSpec,
} from "@slipway/protocol";
import { API_PREFIXES } from "../tracking/routes.js";
import { reasonFromHeader } from "./alias-history.js";
import type { ChangeContext, RegistryService } from "./registry-service.js";

/** The routes whose history rows take the client's reason from the `X-Slipway-Reason` header. */
const TAKES_REASON: ReadonlySet<RegistryMethod> = new Set([
  "setRegisteredModelAlias",
  "deleteRegisteredModelAlias",
  "transitionModelVersionStage",
]);

export function registerRegistryRoutes(app: FastifyInstance, service: RegistryService): void {
  for (const [name, spec] of Object.entries(registryRoutes) as [RegistryMethod, RouteSpec][]) {
    const validate = compileValidator(spec.request);
    const call = service[name].bind(service) as (req: unknown, context?: ChangeContext) => Promise<unknown>;
    const methods = [spec.method, ...(spec.alsoMethods ?? [])];
    for (const prefix of API_PREFIXES) {
      app.route({
        method: methods,
        url: `${prefix}${spec.path}`,
        handler: async (request, reply) => {
          // GET reads the query string; every other method (DELETE included) a JSON body
          const input = request.method === "GET" ? request.query : request.body;
          const req = validate(input);
          const context = TAKES_REASON.has(name)
            ? { reason: reasonFromHeader(request.headers[SLIPWAY_REASON_HEADER]) }
            : undefined;
          const result = await call(req, context);
          return reply.type("application/json").send(stringifyJson(result));
        },
      });
    }
  }

  // Slipway's own registry API
  const history = registryHistoryRoutes.getAliasHistory;
  const validateHistory = compileValidator(history.request);
  for (const prefix of API_PREFIXES) {
    app.get(`${prefix}${history.path}`, async (request, reply) => {
      const result = await service.getAliasHistory(validateHistory(request.query));
      return reply.type("application/json").send(stringifyJson(result));
    });
  }
}
