/**
 * A deployment's Prometheus metrics, on the server's registry (`InferenceMetrics.registry`):
 *
 * - `slipway_inference_deployment_requests_total{deployment, role, version, outcome}`: predictions by the version's
 *   role (primary, canary, shadow) and outcome (ok, error, client_error; a canary error is retried on the primary);
 * - `slipway_inference_deployment_predict_seconds{deployment, role}`: time in the version (queue and predictor);
 * - `slipway_inference_canary_weight{deployment}`: the share of requests routed to the canary now, percent;
 * - `slipway_inference_shadow_rows_total{deployment, version, result}`: shadow rows compared (agree, disagree);
 * - `slipway_inference_shadow_agreement{deployment, version}`: agreeing rows / compared rows since the start;
 * - `slipway_inference_shadow_dropped_total{deployment}`: copies dropped because the shadow's queue was full.
 *
 * Request-path series are cached per label set (a map lookup and an addition per request).
 */
import { Gauge } from "prom-client";
import type { DeploymentRole } from "@slipway/protocol";
import type { InferenceMetrics } from "../serving/metrics.js";
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from "../serving/series-metrics.js";

export type Outcome = "ok" | "error" | "client_error";

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class DeploymentMetrics {
  private readonly requests = new SeriesCounter({
    name: "slipway_inference_deployment_requests_total",
    help: "Predictions of a deployment's versions, by role (primary, canary, shadow) and outcome (ok, error, client_error).",
    labelNames: ["deployment", "role", "version", "outcome"],
  });
  private readonly seconds = new SeriesHistogram({
    name: "slipway_inference_deployment_predict_seconds",
    help: "Time a deployment's version took per request (queue and predictor), in seconds, by role.",
    labelNames: ["deployment", "role"],
    buckets: LATENCY_BUCKETS,
  });
  private readonly shadowRows = new SeriesCounter({
    name: "slipway_inference_shadow_rows_total",
    help: "Shadow rows compared with the primary's answer, by result (agree, disagree).",
    labelNames: ["deployment", "version", "result"],
  });
  private readonly dropped: CounterSeries;
  private readonly requestSeries = new Map<string, CounterSeries>();
  private readonly secondsSeries = new Map<string, HistogramSeries>();
  private readonly agreement = new Map<
    string,
    { agree: CounterSeries; disagree: CounterSeries; a: number; n: number }
  >();
  private weight = 0;

  constructor(
    metrics: InferenceMetrics,
    private readonly deployment: string,
  ) {
    const registry = metrics.registry;
    registry.registerMetric(this.requests);
    registry.registerMetric(this.seconds);
    registry.registerMetric(this.shadowRows);
    const droppedCounter = new SeriesCounter({
      name: "slipway_inference_shadow_dropped_total",
      help: "Copies of requests not sent to the shadow because its queue was full.",
      labelNames: ["deployment"],
    });
    registry.registerMetric(droppedCounter);
    this.dropped = droppedCounter.series({ deployment });
    const read = () => this.weight;
    new Gauge({
      name: "slipway_inference_canary_weight",
      help: "The share of requests routed to the canary, percent.",
      labelNames: ["deployment"],
      registers: [registry],
      collect() {
        this.set({ deployment }, read());
      },
    });
    const agreement = this.agreement;
    new Gauge({
      name: "slipway_inference_shadow_agreement",
      help: "Shadow rows that agreed with the primary's answer / rows compared, since the shadow started.",
      labelNames: ["deployment", "version"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [version, a] of agreement) if (a.n > 0) this.set({ deployment, version }, a.a / a.n);
      },
    });
  }

  setWeight(weight: number): void {
    this.weight = weight;
  }

  request(role: DeploymentRole, version: string, outcome: Outcome, seconds: number): void {
    const key = `${role}\u0000${version}\u0000${outcome}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = this.requests.series({ deployment: this.deployment, role, version, outcome });
      this.requestSeries.set(key, series);
    }
    series.inc();
    let h = this.secondsSeries.get(role);
    if (!h) {
      h = this.seconds.series({ deployment: this.deployment, role });
      this.secondsSeries.set(role, h);
    }
    h.observe(seconds);
  }

  compared(version: string, rows: number, agreed: number): void {
    let a = this.agreement.get(version);
    if (!a) {
      a = {
        agree: this.shadowRows.series({ deployment: this.deployment, version, result: "agree" }),
        disagree: this.shadowRows.series({ deployment: this.deployment, version, result: "disagree" }),
        a: 0,
        n: 0,
      };
      this.agreement.set(version, a);
    }
    a.agree.inc(agreed);
    a.disagree.inc(rows - agreed);
    a.a += agreed;
    a.n += rows;
  }

  drop(): void {
    this.dropped.inc();
  }
}
