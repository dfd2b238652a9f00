/**
 * Prometheus metrics of upstream routing, in a registry the caller owns (no global state). Per target
 * (`model`, `target` = its base URL):
 *
 * - `slipway_llm_upstream_requests_total{model, target, endpoint}`: attempts sent (retries included);
 * - `slipway_llm_upstream_errors_total{model, target, kind}`: failed attempts by kind (`connect`,
 *   `timeout`, `rate_limited`, `server_error`, `protocol`, `client_error`, and `stream` for a stream that
 *   broke after it started);
 * - `slipway_llm_upstream_request_duration_seconds{model, target, endpoint}`: each attempt, sent to done;
 * - `slipway_llm_upstream_first_response_seconds{model, target, endpoint}`: sent to the answer's start
 *   (the first event of a stream, the whole body otherwise);
 * - `slipway_llm_upstream_retries_total{model, target}`: retries after a failure of this target;
 * - `slipway_llm_upstream_healthy{model, target}` (1 up, 0 down) and
 *   `slipway_llm_upstream_in_flight{model, target}`, read at scrape time;
 * - `slipway_llm_upstream_health_checks_total{model, target, result}` (`ok`, `failed`);
 *
 * and per model: `slipway_llm_route_failures_total{model, kind}` (requests a model's targets could not
 * serve, after retries, including `unavailable`: every target down) and
 * `slipway_llm_fallbacks_total{model, fallback}` (requests handed to a fallback model).
 */
import { Gauge, type Registry } from "prom-client";
import { SeriesCounter, SeriesHistogram, type CounterSeries } from "../../serving/series-metrics.js";
import type { UpstreamEndpoint } from "./upstream-wire.js";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const ENDPOINTS: readonly UpstreamEndpoint[] = ["chat", "completion", "embedding"];

export type AttemptErrorKind =
  "connect" | "timeout" | "rate_limited" | "server_error" | "protocol" | "client_error" | "stream";

/** What a target reports at scrape time. */
export interface TargetGaugeSource {
  readonly healthy: boolean;
  readonly inFlight: number;
}

export interface TargetMetrics {
  request(endpoint: UpstreamEndpoint): void;
  error(kind: AttemptErrorKind): void;
  duration(endpoint: UpstreamEndpoint, seconds: number): void;
  firstResponse(endpoint: UpstreamEndpoint, seconds: number): void;
  retry(): void;
  healthCheck(ok: boolean): void;
}

export class UpstreamMetrics {
  private readonly requests = new SeriesCounter({
    name: "slipway_llm_upstream_requests_total",
    help: "Attempts sent to an upstream target (retries included), by model, target and endpoint.",
    labelNames: ["model", "target", "endpoint"],
  });
  private readonly errors = new SeriesCounter({
    name: "slipway_llm_upstream_errors_total",
    help: "Failed upstream attempts by model, target and kind (connect, timeout, rate_limited, server_error, protocol, client_error, stream).",
    labelNames: ["model", "target", "kind"],
  });
  private readonly durations = new SeriesHistogram({
    name: "slipway_llm_upstream_request_duration_seconds",
    help: "Upstream attempts, sent to done (a stream's last event), in seconds.",
    labelNames: ["model", "target", "endpoint"],
    buckets: LATENCY_BUCKETS,
  });
  private readonly firstResponses = new SeriesHistogram({
    name: "slipway_llm_upstream_first_response_seconds",
    help: "Upstream attempts, sent to the start of the answer (a stream's first event, else the whole body), in seconds.",
    labelNames: ["model", "target", "endpoint"],
    buckets: LATENCY_BUCKETS,
  });
  private readonly retries = new SeriesCounter({
    name: "slipway_llm_upstream_retries_total",
    help: "Retries after a failed attempt on this target.",
    labelNames: ["model", "target"],
  });
  private readonly healthChecks = new SeriesCounter({
    name: "slipway_llm_upstream_health_checks_total",
    help: "Active health checks of upstream targets, by result (ok, failed).",
    labelNames: ["model", "target", "result"],
  });
  private readonly routeFailures = new SeriesCounter({
    name: "slipway_llm_route_failures_total",
    help: "Requests that a model's upstream targets could not serve (after retries), by kind of the last failure.",
    labelNames: ["model", "kind"],
  });
  private readonly fallbacks = new SeriesCounter({
    name: "slipway_llm_fallbacks_total",
    help: "Requests handed from a model to a fallback model.",
    labelNames: ["model", "fallback"],
  });
  private readonly sources: { model: string; target: string; source: TargetGaugeSource }[] = [];
  private readonly routeFailureSeries = new Map<string, CounterSeries>();
  private readonly fallbackSeries = new Map<string, CounterSeries>();

  constructor(registry: Registry) {
    for (const metric of [
      this.requests,
      this.errors,
      this.durations,
      this.firstResponses,
      this.retries,
      this.healthChecks,
      this.routeFailures,
      this.fallbacks,
    ]) {
      registry.registerMetric(metric);
    }
    const sources = this.sources;
    registry.registerMetric(
      new Gauge({
        name: "slipway_llm_upstream_healthy",
        help: "1 while an upstream target is up (health checks and passive failures), 0 while marked down.",
        labelNames: ["model", "target"],
        registers: [],
        collect() {
          this.reset();
          for (const s of sources) this.set({ model: s.model, target: s.target }, s.source.healthy ? 1 : 0);
        },
      }),
    );
    registry.registerMetric(
      new Gauge({
        name: "slipway_llm_upstream_in_flight",
        help: "Requests in flight to an upstream target.",
        labelNames: ["model", "target"],
        registers: [],
        collect() {
          this.reset();
          for (const s of sources) this.set({ model: s.model, target: s.target }, s.source.inFlight);
        },
      }),
    );
  }

  /** Handles for one target (created once per target, at startup). */
  target(model: string, target: string, source: TargetGaugeSource): TargetMetrics {
    this.sources.push({ model, target, source });
    const perEndpoint = <T>(make: (endpoint: UpstreamEndpoint) => T): Record<UpstreamEndpoint, T> =>
      Object.fromEntries(ENDPOINTS.map((e) => [e, make(e)])) as Record<UpstreamEndpoint, T>;
    const requests = perEndpoint((endpoint) => this.requests.series({ model, target, endpoint }));
    const durations = perEndpoint((endpoint) => this.durations.series({ model, target, endpoint }));
    const first = perEndpoint((endpoint) => this.firstResponses.series({ model, target, endpoint }));
    const errors = new Map<AttemptErrorKind, CounterSeries>();
    const retries = this.retries.series({ model, target });
    const checks = {
      ok: this.healthChecks.series({ model, target, result: "ok" }),
      failed: this.healthChecks.series({ model, target, result: "failed" }),
    };
    return {
      request: (endpoint) => requests[endpoint].inc(),
      error: (kind) => {
        let series = errors.get(kind);
        if (!series) {
          series = this.errors.series({ model, target, kind });
          errors.set(kind, series);
        }
        series.inc();
      },
      duration: (endpoint, seconds) => durations[endpoint].observe(seconds),
      firstResponse: (endpoint, seconds) => first[endpoint].observe(seconds),
      retry: () => retries.inc(),
      healthCheck: (ok) => (ok ? checks.ok : checks.failed).inc(),
    };
  }

  routeFailure(model: string, kind: string): void {
    cached(this.routeFailureSeries, `${model}\u0000${kind}`, () => this.routeFailures.series({ model, kind })).inc();
  }

  fallback(model: string, fallback: string): void {
    cached(this.fallbackSeries, `${model}\u0000${fallback}`, () => this.fallbacks.series({ model, fallback })).inc();
  }
}

function cached(map: Map<string, CounterSeries>, key: string, make: () => CounterSeries): CounterSeries {
  let series = map.get(key);
  if (!series) {
    series = make();
    map.set(key, series);
  }
  return series;
}
