/**
 * A load test's figures: end-to-end latency, time to first token and time per output token (streaming
 * only) counted in HDR-style histograms (`hdr-histogram.ts`: percentiles within 0.1 %, memory that does
 * not grow with the number of requests), throughput, errors by kind, a per-second timeline, and the
 * summary as the table people read.
 */
import { HdrHistogram, type HistogramBin } from "./hdr-histogram.js";

export interface RequestSample {
  readonly ok: boolean;
  /** Sent to the last byte, in ms. */
  readonly latencyMs: number;
  /** Streaming: sent to the first token's chunk. */
  readonly ttftMs?: number;
  /** Streaming: (latency − ttft) / (output tokens − 1). */
  readonly tpotMs?: number;
  readonly outputTokens: number;
  /** From the server's usage, when it gave one. */
  readonly promptTokens?: number;
  /** `http_503`, `connect`, `timeout`, `stream_error`, `bad_response`… */
  readonly errorKind?: string;
  /** Scenario files: the name of the request template it was made from. */
  readonly template?: string;
}

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

export interface LoadTestTarget {
  readonly url: string;
  readonly model: string | undefined;
  readonly protocol: "openai" | "mlflow";
  readonly endpoint: string;
  readonly stream: boolean;
  /** `chat`, `completions`, `invocations`, or the scenario file's path. */
  readonly scenario?: string;
  /** A scenario file's request templates, by name, with their weights. */
  readonly templates?: readonly { readonly name: string; readonly weight: number }[];
}

export interface LoadTestSettings {
  /** Closed loop: clients; open loop: the cap on requests in flight. */
  readonly concurrency: number;
  /** Open loop: requests per second scheduled, and how their send times were drawn. */
  readonly rate?: number;
  readonly arrivals?: "poisson" | "uniform";
  readonly requests: number | undefined;
  readonly durationMs: number | undefined;
  readonly promptTokens: number | undefined;
  readonly maxTokens: number | undefined;
  /** Warm-up before the measured run: a number of requests or a duration. */
  readonly warmupRequests?: number;
  readonly warmupMs?: number;
}

/** The warm-up phase: sent and finished before the measured run, and left out of every figure. */
export interface WarmupSummary {
  readonly requests: number;
  readonly failed: number;
  readonly elapsedMs: number;
}

/** One second of the run (by the time requests finished). */
export interface TimelinePoint {
  /** Seconds from the start of the measured run: this point covers [second, second + 1). */
  readonly second: number;
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly outputTokens: number;
  /** Latency of the successful requests that finished in this second (2 significant digits). */
  readonly latencyP50?: number;
  readonly latencyP90?: number;
  readonly latencyP99?: number;
  readonly ttftP50?: number;
}

/** The percentiles reported in full results (`--out`), per series. */
export const REPORTED_PERCENTILES = [50, 75, 90, 95, 99, 99.9] as const;

export interface LoadTestSummary {
  readonly target: LoadTestTarget;
  readonly settings: LoadTestSettings;
  readonly elapsedMs: number;
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errorRate: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Successful requests per second of wall time. */
  readonly requestsPerSecond: number;
  readonly outputTokens: number;
  readonly outputTokensPerSecond: number;
  readonly meanPromptTokens: number | undefined;
  readonly meanOutputTokens: number | undefined;
  readonly latency: Distribution | undefined;
  readonly ttft: Distribution | undefined;
  readonly tpot: Distribution | undefined;
  /**
   * Open loop: how much later than scheduled each request was sent (ms): 0 when the client kept to the schedule;
   * large when `concurrency` requests were already in flight, i.e. the server could not keep up with the rate.
   */
  readonly sendLag?: Distribution;
  /** Open loop: requests sent more than 10 ms after their scheduled time. */
  readonly lateSends?: number;
  /** The errors grouped: `http_4xx`, `http_5xx`, `timeout`, `connection`, `stream`, `bad_response`, `other`. */
  readonly errorClasses: Readonly<Record<string, number>>;
  /** Present when the run had a warm-up. */
  readonly warmup?: WarmupSummary;
  /** Scenario files: requests and failures per template. */
  readonly byTemplate?: Readonly<Record<string, { readonly requests: number; readonly failed: number }>>;
  /** `p50` … `p99.9` of each measured series (ms), from the histograms. */
  readonly percentiles: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per second of the measured run. */
  readonly timeline: readonly TimelinePoint[];
  /** Latency and (streaming) TTFT counts in 40 log-spaced bins, for charts. */
  readonly histograms: Readonly<Record<string, readonly HistogramBin[]>>;
}

/** A send later than this after its scheduled time counts as late (timer and event-loop jitter stay below it). */
export const LATE_SEND_MS = 10;

const SERIES_DIGITS = 3;
const TIMELINE_DIGITS = 2;

/** Collects samples as a run goes, in constant memory apart from one small point per second. */
export class LoadSamples {
  private readonly latency = new HdrHistogram({ digits: SERIES_DIGITS });
  private readonly ttft = new HdrHistogram({ digits: SERIES_DIGITS });
  private readonly tpot = new HdrHistogram({ digits: SERIES_DIGITS });
  private readonly lag = new HdrHistogram({ digits: SERIES_DIGITS });
  private late = 0;
  private readonly errors = new Map<string, number>();
  private readonly templates = new Map<string, { requests: number; failed: number }>();
  private readonly timeline: TimelinePoint[] = [];
  private second: {
    second: number;
    requests: number;
    succeeded: number;
    failed: number;
    outputTokens: number;
    latency: HdrHistogram;
    ttft: HdrHistogram;
  } | null = null;
  private promptTokens = 0;
  private promptCounted = 0;
  private outputTokens = 0;
  private ok = 0;
  private failed = 0;

  get done(): number {
    return this.ok + this.failed;
  }

  get errorCount(): number {
    return this.failed;
  }

  /** Open loop: one request's send lag, in ms. */
  addLag(ms: number): void {
    this.lag.record(Math.max(0, ms));
    if (ms > LATE_SEND_MS) this.late++;
  }

  /** One finished request; `atMs`: when it finished, in ms from the start of the run (for the timeline). */
  add(sample: RequestSample, atMs?: number): void {
    const point = atMs === undefined ? undefined : this.pointAt(Math.max(0, Math.floor(atMs / 1000)));
    if (sample.template !== undefined) {
      const t = this.templates.get(sample.template) ?? { requests: 0, failed: 0 };
      t.requests++;
      if (!sample.ok) t.failed++;
      this.templates.set(sample.template, t);
    }
    if (point) point.requests++;
    if (!sample.ok) {
      this.failed++;
      if (point) point.failed++;
      const kind = sample.errorKind ?? "error";
      this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
      return;
    }
    this.ok++;
    this.latency.record(sample.latencyMs);
    if (sample.ttftMs !== undefined) this.ttft.record(sample.ttftMs);
    if (sample.tpotMs !== undefined) this.tpot.record(sample.tpotMs);
    this.outputTokens += sample.outputTokens;
    if (point) {
      point.succeeded++;
      point.outputTokens += sample.outputTokens;
      point.latency.record(sample.latencyMs);
      if (sample.ttftMs !== undefined) point.ttft.record(sample.ttftMs);
    }
    if (sample.promptTokens !== undefined) {
      this.promptTokens += sample.promptTokens;
      this.promptCounted++;
    }
  }

  /** The point of `second` (requests finish in time order, so earlier seconds are closed for good). */
  private pointAt(second: number) {
    if (this.second !== null && this.second.second === second) return this.second;
    if (this.second !== null && second < this.second.second) return undefined;
    this.closeSecond();
    // seconds without any finished request still get a point, so the charts' time axis is even
    for (let s = this.timeline.length === 0 ? 0 : this.timeline.at(-1)!.second + 1; s < second; s++) {
      this.timeline.push({ second: s, requests: 0, succeeded: 0, failed: 0, outputTokens: 0 });
    }
    this.second = {
      second,
      requests: 0,
      succeeded: 0,
      failed: 0,
      outputTokens: 0,
      latency: new HdrHistogram({ digits: TIMELINE_DIGITS }),
      ttft: new HdrHistogram({ digits: TIMELINE_DIGITS }),
    };
    return this.second;
  }

  private closeSecond(): void {
    const p = this.second;
    if (p === null) return;
    this.second = null;
    this.timeline.push({
      second: p.second,
      requests: p.requests,
      succeeded: p.succeeded,
      failed: p.failed,
      outputTokens: p.outputTokens,
      ...(p.latency.count === 0
        ? {}
        : {
            latencyP50: p.latency.percentile(50)!,
            latencyP90: p.latency.percentile(90)!,
            latencyP99: p.latency.percentile(99)!,
          }),
      ...(p.ttft.count === 0 ? {} : { ttftP50: p.ttft.percentile(50)! }),
    });
  }

  summary(
    target: LoadTestTarget,
    settings: LoadTestSettings,
    elapsedMs: number,
    warmup?: WarmupSummary,
  ): LoadTestSummary {
    this.closeSecond();
    const requests = this.ok + this.failed;
    const seconds = elapsedMs / 1000;
    const series = { latency: this.latency, ttft: this.ttft, tpot: this.tpot };
    const percentiles: Record<string, Record<string, number>> = {};
    for (const [name, h] of Object.entries(series)) {
      if (h.count === 0) continue;
      percentiles[name] = Object.fromEntries(REPORTED_PERCENTILES.map((p) => [`p${p}`, h.percentile(p)!]));
    }
    const histograms: Record<string, HistogramBin[]> = {};
    if (this.latency.count > 0) histograms.latency = this.latency.logBins(40);
    if (this.ttft.count > 0) histograms.ttft = this.ttft.logBins(40);
    return {
      target,
      settings,
      elapsedMs,
      requests,
      succeeded: this.ok,
      failed: this.failed,
      errorRate: requests === 0 ? 0 : this.failed / requests,
      errors: Object.fromEntries([...this.errors].sort((a, b) => b[1] - a[1])),
      errorClasses: errorClasses(this.errors),
      requestsPerSecond: seconds > 0 ? this.ok / seconds : 0,
      outputTokens: this.outputTokens,
      outputTokensPerSecond: seconds > 0 ? this.outputTokens / seconds : 0,
      meanPromptTokens: this.promptCounted > 0 ? this.promptTokens / this.promptCounted : undefined,
      meanOutputTokens: this.ok > 0 && this.outputTokens > 0 ? this.outputTokens / this.ok : undefined,
      latency: histogramDistribution(this.latency),
      ttft: histogramDistribution(this.ttft),
      tpot: histogramDistribution(this.tpot),
      ...(settings.rate === undefined ? {} : { sendLag: histogramDistribution(this.lag), lateSends: this.late }),
      ...(warmup === undefined ? {} : { warmup }),
      ...(this.templates.size === 0 ? {} : { byTemplate: Object.fromEntries(this.templates) }),
      percentiles,
      timeline: [...this.timeline],
      histograms,
    };
  }
}

/**
 * The class of an error kind: HTTP statuses by hundreds (`http_4xx`, `http_5xx`, `http_other` for 1xx/3xx),
 * `timeout`, `connection` (refused, reset, lost), `stream` (an error in the stream, or one cut short),
 * `bad_response` (a 2xx that is not an OpenAI answer), or `other`.
 */
export function errorClass(kind: string): string {
  const status = /^http_(\d)\d\d$/.exec(kind);
  if (status) return status[1] === "4" || status[1] === "5" ? `http_${status[1]}xx` : "http_other";
  if (kind === "timeout" || kind === "bad_response") return kind;
  if (kind.startsWith("connect")) return "connection";
  if (kind.startsWith("stream_")) return "stream";
  return "other";
}

function errorClasses(errors: ReadonlyMap<string, number>): Record<string, number> {
  const classes = new Map<string, number>();
  for (const [kind, n] of errors) classes.set(errorClass(kind), (classes.get(errorClass(kind)) ?? 0) + n);
  return Object.fromEntries([...classes].sort((a, b) => b[1] - a[1]));
}

/** A histogram's figures (mean, min and max exact; percentiles within its precision). */
export function histogramDistribution(h: HdrHistogram): Distribution | undefined {
  if (h.count === 0) return undefined;
  return {
    count: h.count,
    mean: h.mean!,
    p50: h.percentile(50)!,
    p90: h.percentile(90)!,
    p99: h.percentile(99)!,
    min: h.min!,
    max: h.max!,
  };
}

/** Exact nearest-rank percentiles of a list (a reference for the histograms' tests). */
export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** The summary as a table. */
export function formatLoadTestReport(s: LoadTestSummary): string {
  const { target, settings } = s;
  const what =
    target.templates !== undefined
      ? `scenario ${target.scenario ?? ""}: ${target.templates.map((t) => `${t.name} ×${t.weight}`).join(", ")}`
      : target.protocol === "mlflow"
        ? "MLflow /invocations"
        : `${target.endpoint}${target.stream ? ", streaming" : ""}${target.model ? `, model ${target.model}` : ""}`;
  const plan =
    settings.requests !== undefined
      ? `${settings.requests} requests`
      : `${((settings.durationMs ?? 0) / 1000).toFixed(0)} s`;
  const shape =
    settings.rate === undefined
      ? `concurrency ${settings.concurrency}`
      : `open loop at ${settings.rate} requests/s (${settings.arrivals ?? "poisson"} arrivals, at most ${settings.concurrency} in flight)`;
  const lines = [
    `Load test of ${target.url} (${what})`,
    `  ${shape}, ${plan}: ${s.requests} done in ${(s.elapsedMs / 1000).toFixed(2)} s` +
      (target.protocol === "openai" && settings.maxTokens !== undefined
        ? ` (prompt ≈${settings.promptTokens ?? "?"} tokens, max_tokens ${settings.maxTokens})`
        : ""),
  ];
  if (s.warmup !== undefined) {
    lines.push(
      `  after a warm-up of ${s.warmup.requests} requests in ${(s.warmup.elapsedMs / 1000).toFixed(2)} s` +
        ` (${s.warmup.failed} failed; not counted below)`,
    );
  }
  lines.push("");
  const rows: [string, Distribution | undefined][] = [
    ["latency (ms)", s.latency],
    ["time to first token (ms)", s.ttft],
    ["time per output token (ms)", s.tpot],
  ];
  const shown = rows.filter(([, d]) => d !== undefined) as [string, Distribution][];
  if (shown.length > 0) {
    const head = ["", "mean", "p50", "p90", "p99", "max"];
    const table = [head, ...shown.map(([name, d]) => [name, ms(d.mean), ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max)])];
    const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const row of table) {
      lines.push(
        `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("   ")}`,
      );
    }
    lines.push("");
  }
  lines.push(`  requests/s        ${s.requestsPerSecond.toFixed(1)}`);
  if (s.sendLag !== undefined && s.lateSends !== undefined) {
    lines.push(
      `  late sends        ${s.lateSends} of ${s.sendLag.count} more than ${LATE_SEND_MS} ms behind schedule` +
        ` (lag p50 ${ms(s.sendLag.p50)}, p99 ${ms(s.sendLag.p99)}, max ${ms(s.sendLag.max)} ms)` +
        (s.lateSends > 0 ? ": the server did not keep up with the rate (or the client could not send that fast)" : ""),
    );
  }
  if (target.protocol === "openai") {
    lines.push(`  output tokens/s   ${s.outputTokensPerSecond.toFixed(1)}`);
    const per = [
      s.meanPromptTokens === undefined ? undefined : `prompt ${s.meanPromptTokens.toFixed(0)}`,
      s.meanOutputTokens === undefined ? undefined : `output ${s.meanOutputTokens.toFixed(1)}`,
    ].filter((x) => x !== undefined);
    if (per.length > 0) lines.push(`  tokens/request    ${per.join(", ")}`);
  }
  const kinds = Object.entries(s.errors)
    .map(([kind, n]) => `${kind}: ${n}`)
    .join(", ");
  lines.push(
    `  errors            ${s.failed} of ${s.requests} (${(s.errorRate * 100).toFixed(2)}%)${kinds === "" ? "" : `  ${kinds}`}`,
  );
  if (s.byTemplate !== undefined) {
    const names = target.templates?.map((t) => t.name) ?? Object.keys(s.byTemplate);
    const parts = names.map((name) => {
      const t = s.byTemplate?.[name] ?? { requests: 0, failed: 0 };
      return `${name}: ${t.requests} (${t.failed} failed)`;
    });
    lines.push(`  by template       ${parts.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}
