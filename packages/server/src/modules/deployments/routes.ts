/**
 * The deployments API (`deploymentRoutes` in protocol) under `/api/2.0` and `/ajax-api/2.0`. Handlers hand the
 * service the path's name, the body (checked by the service against protocol's schemas, naming the bad field) or the
 * query string (checked here with the route table's validators), and write its answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compileValidator, deploymentRoutes, stringifyJson } from "@slipway/protocol";
import { API_PREFIXES } from "../../platform/http/route-table.js";
import type { DeploymentService } from "./deployment-service.js";

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type("application/json").send(stringifyJson(body));
}

/** protocol's `{name}` path parameters in Fastify's `:name` form. */
function path(prefix: string, spec: { path: string }): string {
  return `${prefix}${spec.path.replace(/\{(\w+)\}/g, ":$1")}`;
}

function name(request: FastifyRequest): string {
  return (request.params as Record<string, string>).name!;
}

export function registerDeploymentRoutes(app: FastifyInstance, service: DeploymentService): void {
  const r = deploymentRoutes;
  const listQuery = compileValidator(r.listDeployments.request);
  const eventsQuery = compileValidator(r.listDeploymentEvents.request);
  for (const prefix of API_PREFIXES) {
    app.post(path(prefix, r.createDeployment), async (request, reply) =>
      send(reply, { deployment: await service.create(request.body) }),
    );
    app.get(path(prefix, r.listDeployments), async (request, reply) =>
      send(reply, await service.list(listQuery(request.query))),
    );
    app.get(path(prefix, r.getDeployment), async (request, reply) =>
      send(reply, { deployment: await service.get(name(request)) }),
    );
    app.patch(path(prefix, r.updateDeployment), async (request, reply) =>
      send(reply, { deployment: await service.update(name(request), request.body) }),
    );
    app.delete(path(prefix, r.deleteDeployment), async (request, reply) => {
      await service.delete(name(request));
      return send(reply, {});
    });
    app.post(path(prefix, r.promoteDeployment), async (request, reply) =>
      send(reply, { deployment: await service.promote(name(request), request.body) }),
    );
    app.post(path(prefix, r.rollbackDeployment), async (request, reply) =>
      send(reply, { deployment: await service.rollback(name(request), request.body) }),
    );
    app.post(path(prefix, r.reportDeploymentStats), async (request, reply) =>
      send(reply, { deployment: await service.report(name(request), request.body) }),
    );
    app.get(path(prefix, r.listDeploymentEvents), async (request, reply) =>
      send(reply, await service.events(name(request), eventsQuery(request.query))),
    );
  }
}
