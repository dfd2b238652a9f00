/**
 * vLLM's metric names on the LLM server's `/metrics`, so that dashboards and alerts written for vLLM
 * (its Grafana dashboard, KServe's and llm-d's autoscaling rules) work unchanged. Names, types, the
 * `model_name` label and bucket boundaries are vLLM's (v1 engine, `vllm/v1/metrics/loggers.py`):
 *
 * | metric                               | type      | what                                          |
 * | ------------------------------------ | --------- | --------------------------------------------- |
 * | `vllm:time_to_first_token_seconds`   | histogram | request received → first generated text       |
 * | `vllm:time_per_output_token_seconds` | histogram | one observation per output token after the first: the request's mean decode interval |
 * | `vllm:e2e_request_latency_seconds`   | histogram | request received → generation ended (finished or aborted) |
 * | `vllm:prompt_tokens_total`           | counter   | prompt tokens (embedding inputs included)     |
 * | `vllm:generation_tokens_total`       | counter   | generated tokens                              |
 * | `vllm:request_success_total`         | counter   | finished choices by `finished_reason` (`stop`, `length`, `abort`) |
 * | `vllm:num_requests_running`          | gauge     | sequences generating now                      |
 * | `vllm:num_requests_waiting`          | gauge     | sequences queued for a slot                   |
 *
 * They are fed at the HTTP edge from the generation event stream, so the embedded engine and upstream
 * routes (`--upstream`) count alike; the gauges read each model's provider at scrape time (for an
 * upstream: its requests in flight, none waiting). Token counts come from the stream's final `usage`.
 */
import { Gauge, type Registry } from "prom-client";
import {
  SeriesCounter,
  SeriesHistogram,
  type CounterSeries,
  type HistogramSeries,
} from "../../serving/series-metrics.js";
import type { FinishReason, ProviderLoad } from "../engine/llm-provider.js";

export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
export const TPOT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
export const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];

/** vLLM's `finished_reason` values. */
export type FinishedReason = FinishReason | "abort";

/** One model's series. */
export interface VllmModelMetrics {
  timeToFirstToken(seconds: number): void;
  /** `tokens` intervals of `seconds` each (the request's mean). */
  timePerOutputToken(seconds: number, tokens: number): void;
  e2eLatency(seconds: number): void;
  promptTokens(count: number): void;
  generationTokens(count: number): void;
  finished(reason: FinishedReason): void;
}

/** What the gauges read at scrape time: each served model's load. */
export type ModelLoads = () => Iterable<{ model: string; load: ProviderLoad }>;

export class VllmMetrics {
  private readonly ttft = new SeriesHistogram({
    name: "vllm:time_to_first_token_seconds",
    help: "Histogram of time to first token in seconds.",
    labelNames: ["model_name"],
    buckets: TTFT_BUCKETS,
  });
  private readonly tpot = new SeriesHistogram({
    name: "vllm:time_per_output_token_seconds",
    help: "Histogram of time per output token in seconds.",
    labelNames: ["model_name"],
    buckets: TPOT_BUCKETS,
  });
  private readonly e2e = new SeriesHistogram({
    name: "vllm:e2e_request_latency_seconds",
    help: "Histogram of e2e request latency in seconds.",
    labelNames: ["model_name"],
    buckets: E2E_BUCKETS,
  });
  private readonly prompt = new SeriesCounter({
    name: "vllm:prompt_tokens_total",
    help: "Number of prefill tokens processed.",
    labelNames: ["model_name"],
  });
  private readonly generation = new SeriesCounter({
    name: "vllm:generation_tokens_total",
    help: "Number of generation tokens processed.",
    labelNames: ["model_name"],
  });
  private readonly success = new SeriesCounter({
    name: "vllm:request_success_total",
    help: "Count of successfully processed requests.",
    labelNames: ["model_name", "finished_reason"],
  });
  private readonly models = new Map<string, VllmModelMetrics>();

  constructor(registry: Registry, loads: ModelLoads) {
    for (const metric of [this.ttft, this.tpot, this.e2e, this.prompt, this.generation, this.success]) {
      registry.registerMetric(metric);
    }
    const gauge = (name: string, help: string, pick: (load: ProviderLoad) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model_name"],
        registers: [],
        collect() {
          this.reset();
          for (const { model, load } of loads()) this.set({ model_name: model }, pick(load));
        },
      });
    registry.registerMetric(
      gauge("vllm:num_requests_running", "Number of requests in model execution batches.", (l) => l.running),
    );
    registry.registerMetric(
      gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", (l) => l.waiting),
    );
  }

  /** The series of one served model (created once, then reused). */
  model(name: string): VllmModelMetrics {
    let metrics = this.models.get(name);
    if (metrics === undefined) {
      const labels = { model_name: name };
      const ttft: HistogramSeries = this.ttft.series(labels);
      const tpot = this.tpot.series(labels);
      const e2e = this.e2e.series(labels);
      const prompt: CounterSeries = this.prompt.series(labels);
      const generation = this.generation.series(labels);
      const reasons = new Map<FinishedReason, CounterSeries>();
      metrics = {
        timeToFirstToken: (seconds) => ttft.observe(seconds),
        timePerOutputToken: (seconds, tokens) => {
          for (let i = 0; i < tokens; i++) tpot.observe(seconds);
        },
        e2eLatency: (seconds) => e2e.observe(seconds),
        promptTokens: (count) => {
          if (count > 0) prompt.inc(count);
        },
        generationTokens: (count) => {
          if (count > 0) generation.inc(count);
        },
        finished: (reason) => {
          let series = reasons.get(reason);
          if (series === undefined) {
            series = this.success.series({ model_name: name, finished_reason: reason });
            reasons.set(reason, series);
          }
          series.inc();
        },
      };
      this.models.set(name, metrics);
    }
    return metrics;
  }
}
