import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The control plane's Prometheus metrics; one registry per server instance (no global state). */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route" | "status">;
  dbSeconds: Histogram<"op">;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slipway_process_" });
  return {
    registry,
    requests: new Counter({
      name: "slipway_http_requests_total",
      help: "HTTP requests answered, by route, method and status.",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "slipway_http_request_duration_seconds",
      help: "HTTP request latency in seconds, by route, method and status.",
      labelNames: ["method", "route", "status"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    dbSeconds: new Histogram({
      name: "slipway_db_operation_duration_seconds",
      help: "Time spent in the database driver per statement or transaction, in seconds.",
      labelNames: ["op"],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
  };
}
