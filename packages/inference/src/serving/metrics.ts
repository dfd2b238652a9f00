/**
 * The model server's Prometheus metrics, one registry per server (no global state):
 *
 * - `slipway_inference_requests_total{protocol, model, status}` and
 *   `slipway_inference_request_duration_seconds{protocol, model}`: every HTTP request, by protocol;
 * - `slipway_inference_batch_size{model, version}` (rows per predictor call) and
 *   `slipway_inference_batch_requests{model, version}` (requests merged into one call);
 * - `slipway_inference_predict_duration_seconds{model, version}`: time in the predictor per call;
 * - `slipway_inference_queue_depth{model, version}`: requests waiting, read at scrape time;
 * - `slipway_inference_predictions_total{model, version, class}`: predicted rows per class, for models
 *   with a label output;
 * - `slipway_inference_log_records_total{outcome}` and `slipway_inference_log_buffer_records`: the
 *   inference log's records by fate (sent, or dropped and why) and those waiting to be sent, when a
 *   logger is attached (`inferenceLog`).
 *
 * The request-path metrics are `SeriesCounter` / `SeriesHistogram`s whose per-label-set handles are
 * cached, so a request pays a map lookup and an addition, not a label hash.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { SEND_OUTCOMES, type SendOutcome } from "./bounded-sender.js";
import type { PredictionBatch } from "../predictors/predictor.js";
import type { ModelSet } from "./model-set.js";
import type { ModelHooks, ServedModel } from "./served-model.js";
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from "./series-metrics.js";

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** What became of a record offered to the inference log (`slipway_inference_log_records_total{outcome}`). */
export type InferenceLogOutcome = SendOutcome;

export const INFERENCE_LOG_OUTCOMES: readonly InferenceLogOutcome[] = SEND_OUTCOMES;

/** Most distinct classes counted per model version (beyond it: `class="other"`), against label explosions. */
const MAX_CLASSES = 100;

interface ModelChildren {
  batchSize: HistogramSeries;
  batchRequests: HistogramSeries;
  predictSeconds: HistogramSeries;
  /** Class value → its series, for the first MAX_CLASSES values. */
  classes: Map<string, CounterSeries>;
  /** The series of every later value (`class="other"`). */
  other?: CounterSeries;
}

export class InferenceMetrics {
  readonly registry = new Registry();
  private readonly requests = new SeriesCounter({
    name: "slipway_inference_requests_total",
    help: "Model server HTTP requests, by protocol, model and status.",
    labelNames: ["protocol", "model", "status"],
  });
  private readonly duration = new SeriesHistogram({
    name: "slipway_inference_request_duration_seconds",
    help: "Model server HTTP request latency in seconds (body parsing to response), by protocol and model.",
    labelNames: ["protocol", "model"],
    buckets: LATENCY_BUCKETS,
  });
  private readonly batchSize = new SeriesHistogram({
    name: "slipway_inference_batch_size",
    help: "Rows per predictor call.",
    labelNames: ["model", "version"],
    buckets: BATCH_BUCKETS,
  });
  private readonly batchRequests = new SeriesHistogram({
    name: "slipway_inference_batch_requests",
    help: "Requests merged into one predictor call.",
    labelNames: ["model", "version"],
    buckets: BATCH_BUCKETS,
  });
  private readonly predictSeconds = new SeriesHistogram({
    name: "slipway_inference_predict_duration_seconds",
    help: "Time in the predictor per call, in seconds.",
    labelNames: ["model", "version"],
    buckets: LATENCY_BUCKETS,
  });
  private readonly predictions = new SeriesCounter({
    name: "slipway_inference_predictions_total",
    help: "Predicted rows per class, for classifiers.",
    labelNames: ["model", "version", "class"],
  });
  private readonly requestChildren = new Map<string, CounterSeries>();
  private readonly durationChildren = new Map<string, HistogramSeries>();
  private readonly modelChildren = new WeakMap<ServedModel, ModelChildren>();
  /** Per model and version: shared by the ServedModel objects of one version (a reload keeps counting). */
  private readonly versionChildren = new Map<string, ModelChildren>();
  private readonly swaps = new Counter({
    name: "slipway_inference_model_swaps_total",
    help: "Hot swaps after a registry alias moved, by model and result (swapped, failed).",
    labelNames: ["model", "result"],
    registers: [],
  });
  private logRecords: Record<InferenceLogOutcome, CounterSeries> | undefined;
  private logBuffered: () => number = () => 0;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: "slipway_process_" });
    }
    this.registry.registerMetric(this.requests);
    this.registry.registerMetric(this.duration);
    this.registry.registerMetric(this.batchSize);
    this.registry.registerMetric(this.batchRequests);
    this.registry.registerMetric(this.predictSeconds);
    this.registry.registerMetric(this.predictions);
    this.registry.registerMetric(this.swaps);
  }

  /** One hot swap attempt (rare: not on the request path). */
  recordSwap(model: string, result: "swapped" | "failed"): void {
    this.swaps.inc({ model, result });
  }

  /**
   * The inference log's counters, one series per outcome (all present from the start, at 0), and its
   * buffer gauge, which calls `buffered` at scrape time. Registered on the first call; a later call (a
   * logger replacing another) gets the same counters and rebinds the gauge.
   */
  inferenceLog(buffered: () => number): Record<InferenceLogOutcome, CounterSeries> {
    this.logBuffered = buffered;
    if (this.logRecords) return this.logRecords;
    const records = new SeriesCounter({
      name: "slipway_inference_log_records_total",
      help: "Records offered to the inference log, by outcome: sent, or dropped (buffer full, send failed, rejected).",
      labelNames: ["outcome"],
    });
    this.registry.registerMetric(records);
    const read = () => this.logBuffered();
    new Gauge({
      name: "slipway_inference_log_buffer_records",
      help: "Inference log records waiting to be sent.",
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
    const series = {} as Record<InferenceLogOutcome, CounterSeries>;
    for (const outcome of INFERENCE_LOG_OUTCOMES) series[outcome] = records.series({ outcome });
    this.logRecords = series;
    return series;
  }

  /** A queue-depth gauge reading the models' batchers at scrape time. */
  watchQueues(models: ModelSet): void {
    new Gauge({
      name: "slipway_inference_queue_depth",
      help: "Requests waiting in a model's admission queue.",
      labelNames: ["model", "version"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of models.list()) this.set({ model: m.name, version: m.version ?? "" }, m.queueDepth);
      },
    });
  }

  /** Counts one answered HTTP request. */
  observeRequest(protocol: string, model: string, status: number, seconds: number): void {
    const key = `${protocol}\u0000${model}`;
    let duration = this.durationChildren.get(key);
    if (!duration) {
      duration = this.duration.series({ protocol, model });
      this.durationChildren.set(key, duration);
    }
    duration.observe(seconds);
    const statusKey = `${key}\u0000${status}`;
    let requests = this.requestChildren.get(statusKey);
    if (!requests) {
      requests = this.requests.series({ protocol, model, status: String(status) });
      this.requestChildren.set(statusKey, requests);
    }
    requests.inc();
  }

  /** Hooks that feed the per-model metrics. */
  modelHooks(): ModelHooks {
    return {
      onBatch: (model, rows, requests) => {
        const c = this.childrenOf(model);
        c.batchSize.observe(rows);
        c.batchRequests.observe(requests);
      },
      onPrediction: (model, prediction, seconds) => {
        const c = this.childrenOf(model);
        c.predictSeconds.observe(seconds);
        if (model.predictor.labelOutput !== undefined) this.countClasses(model, c, prediction);
      },
    };
  }

  private childrenOf(model: ServedModel): ModelChildren {
    let c = this.modelChildren.get(model);
    if (!c) {
      const version = model.version ?? "";
      const key = `${model.name}\u0000${version}`;
      c = this.versionChildren.get(key);
      if (!c) {
        const labels = { model: model.name, version };
        c = {
          batchSize: this.batchSize.series(labels),
          batchRequests: this.batchRequests.series(labels),
          predictSeconds: this.predictSeconds.series(labels),
          classes: new Map(),
        };
        this.versionChildren.set(key, c);
      }
      this.modelChildren.set(model, c);
    }
    return c;
  }

  private countClasses(model: ServedModel, c: ModelChildren, prediction: PredictionBatch): void {
    const labels = prediction.outputs.get(model.predictor.labelOutput!);
    if (!labels || labels.shape.length !== 1) return;
    const counts = new Map<string | number | bigint, number>();
    const data = labels.data as ArrayLike<string | number | bigint>;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [value, n] of counts) {
      const name = String(value);
      let series = c.classes.get(name);
      if (!series) {
        const labels = { model: model.name, version: model.version ?? "" };
        if (c.classes.size < MAX_CLASSES) {
          series = this.predictions.series({ ...labels, class: name });
          c.classes.set(name, series);
        } else {
          series = c.other ??= this.predictions.series({ ...labels, class: "other" });
        }
      }
      series.inc(n);
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
