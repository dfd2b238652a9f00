/** Mounts every tracking RPC of the route table. */
import type { FastifyInstance } from "fastify";
import { trackingRoutes, type RequestOf, type TrackingMethod } from "@slipway/protocol";
import { mountRouteTable, StreamedJson } from "../../platform/http/route-table.js";
import type { TrackingService } from "./tracking-service.js";

export function registerTrackingRoutes(app: FastifyInstance, service: TrackingService): void {
  mountRouteTable<TrackingMethod>(app, trackingRoutes, async (name, req) => {
    if (name === "getMetricHistory") {
      const r = req as RequestOf<"getMetricHistory">;
      // the whole history (no paging asked): streamed from pre-rendered chunks
      if (r.max_results === undefined && r.page_token === undefined) {
        return new StreamedJson(await service.metricHistoryJson(r.run_id || r.run_uuid || "", r.metric_key));
      }
    }
    return (service[name] as (request: unknown) => Promise<unknown>).call(service, req);
  });
}
