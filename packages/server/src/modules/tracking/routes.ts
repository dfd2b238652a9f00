/** Mounts every tracking RPC of the route table under /api/2.0 and /ajax-api/2.0. Handlers are thin. */
import type { FastifyInstance } from "fastify";
import { Readable } from "node:stream";
import {
  compileValidator,
  stringifyJson,
  trackingRoutes,
  type RouteSpec,
  type TrackingMethod,
} from "@slipway/protocol";
import type { TrackingService } from "./tracking-service.js";

export const API_PREFIXES = ["/api/2.0", "/ajax-api/2.0"] as const;

export function registerTrackingRoutes(app: FastifyInstance, service: TrackingService): void {
  for (const [name, spec] of Object.entries(trackingRoutes) as [TrackingMethod, RouteSpec][]) {
    const validate = compileValidator(spec.request);
    const call = service[name].bind(service) as (req: unknown) => Promise<unknown>;
    const methods = [spec.method, ...(spec.alsoMethods ?? [])];
    for (const prefix of API_PREFIXES) {
      app.route({
        method: methods,
        url: `${prefix}${spec.path}`,
        handler: async (request, reply) => {
          const input = request.method === "GET" ? request.query : request.body;
          const req = validate(input);
          if (name === "getMetricHistory") {
            const r = req as {
              run_id?: string;
              run_uuid?: string;
              metric_key: string;
              max_results?: number;
              page_token?: string;
            };
            if (r.max_results === undefined && r.page_token === undefined) {
              const runId = r.run_id || r.run_uuid || "";
              const body = await service.metricHistoryJson(runId, r.metric_key);
              return reply.type("application/json").send(Readable.from(body, { objectMode: false }));
            }
          }
          const result = await call(req);
          return reply.type("application/json").send(stringifyJson(result));
        },
      });
    }
  }
}
