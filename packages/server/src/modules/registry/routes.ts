/** Mounts every model-registry RPC of the route table, and Slipway's registry history route. */
import type { FastifyInstance } from "fastify";
import { registryHistoryRoutes, registryRoutes, SLIPWAY_REASON_HEADER, type RegistryMethod } from "@slipway/protocol";
import { mountRouteTable } from "../../platform/http/route-table.js";
import { reasonFromHeader } from "./alias-history.js";
import { registerRegistryEventRoutes } from "./events-routes.js";
import type { ChangeContext, RegistryService } from "./registry-service.js";

/** The routes whose history rows take the client's reason from the `X-Slipway-Reason` header. */
const TAKES_REASON: ReadonlySet<RegistryMethod> = new Set([
  "setRegisteredModelAlias",
  "deleteRegisteredModelAlias",
  "transitionModelVersionStage",
]);

export function registerRegistryRoutes(app: FastifyInstance, service: RegistryService): void {
  mountRouteTable<RegistryMethod>(app, registryRoutes, (name, req, http) => {
    const context: ChangeContext | undefined = TAKES_REASON.has(name)
      ? { reason: reasonFromHeader(http.headers[SLIPWAY_REASON_HEADER]) }
      : undefined;
    return (service[name] as (request: unknown, context?: ChangeContext) => Promise<unknown>).call(
      service,
      req,
      context,
    );
  });
  // Slipway's own registry API
  mountRouteTable(app, registryHistoryRoutes, (_name, req) =>
    service.getAliasHistory(req as Parameters<RegistryService["getAliasHistory"]>[0]),
  );
  registerRegistryEventRoutes(app, service);
}
