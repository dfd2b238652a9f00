/**
 * The monitors API (`monitorRoutes` in protocol) under `/api/2.0` and `/ajax-api/2.0`. Handlers only hand the
 * service the path parameters, the body (checked against protocol's schemas by the service, which names the bad
 * field) or the query string (checked here with the route table's validators), and write its answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compileValidator, monitorRoutes, stringifyJson } from "@slipway/protocol";
import { API_PREFIXES } from "../../platform/http/route-table.js";
import type { MonitorService } from "./monitor-service.js";

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type("application/json").send(stringifyJson(body));
}

/** protocol's `{name}` path parameters in Fastify's `:name` form. */
function path(prefix: string, spec: { path: string }): string {
  return `${prefix}${spec.path.replace(/\{(\w+)\}/g, ":$1")}`;
}

function param(request: FastifyRequest, key: string): string {
  return (request.params as Record<string, string>)[key]!;
}

export function registerMonitorRoutes(app: FastifyInstance, service: MonitorService): void {
  const r = monitorRoutes;
  const listQuery = compileValidator(r.listMonitors.request);
  const windowsQuery = compileValidator(r.listMonitorWindows.request);
  const alertsQuery = compileValidator(r.listAlerts.request);
  for (const prefix of API_PREFIXES) {
    app.post(path(prefix, r.createMonitor), async (request, reply) =>
      send(reply, { monitor: await service.create(request.body) }),
    );
    app.get(path(prefix, r.listMonitors), async (request, reply) =>
      send(reply, await service.list(listQuery(request.query))),
    );
    app.get(path(prefix, r.getMonitor), async (request, reply) =>
      send(reply, { monitor: await service.get(param(request, "name")) }),
    );
    app.patch(path(prefix, r.updateMonitor), async (request, reply) =>
      send(reply, { monitor: await service.update(param(request, "name"), request.body) }),
    );
    app.delete(path(prefix, r.deleteMonitor), async (request, reply) => {
      await service.delete(param(request, "name"));
      return send(reply, {});
    });
    app.post(path(prefix, r.runMonitor), async (request, reply) =>
      send(reply, { window: await service.run(param(request, "name"), request.body) }),
    );
    app.get(path(prefix, r.listMonitorWindows), async (request, reply) =>
      send(reply, await service.windows(param(request, "name"), windowsQuery(request.query))),
    );
    app.get(path(prefix, r.getMonitorWindow), async (request, reply) =>
      send(reply, { window: await service.window(param(request, "name"), param(request, "window_id")) }),
    );
    app.get(path(prefix, r.getMonitorWindowReport), async (request, reply) => {
      const html = await service.report(param(request, "name"), param(request, "window_id"));
      return reply.type("text/html; charset=utf-8").send(html);
    });
    app.get(path(prefix, r.listMonitorAlerts), async (request, reply) =>
      send(reply, await service.alerts(alertsQuery(request.query), param(request, "name"))),
    );
    app.get(path(prefix, r.listAlerts), async (request, reply) =>
      send(reply, await service.alerts(alertsQuery(request.query))),
    );
  }
}
