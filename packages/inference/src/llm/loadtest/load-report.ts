/**
 * A load test's figures: every request's sample kept (exact percentiles by sorting; a run of 100k
 * requests keeps a few MB), summarised as distributions of end-to-end latency, time to first token
 * and time per output token (streaming only), throughput, and errors by kind; and the summary as the
 * table people read.
 */

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
}

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
}

/** A send later than this after its scheduled time counts as late (timer and event-loop jitter stay below it). */
export const LATE_SEND_MS = 10;

/** Collects samples as a run goes. */
export class LoadSamples {
  private readonly latency: number[] = [];
  private readonly ttft: number[] = [];
  private readonly tpot: number[] = [];
  private readonly lag: number[] = [];
  private readonly errors = new Map<string, number>();
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
    this.lag.push(Math.max(0, ms));
  }

  add(sample: RequestSample): void {
    if (!sample.ok) {
      this.failed++;
      const kind = sample.errorKind ?? "error";
      this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
      return;
    }
    this.ok++;
    this.latency.push(sample.latencyMs);
    if (sample.ttftMs !== undefined) this.ttft.push(sample.ttftMs);
    if (sample.tpotMs !== undefined) this.tpot.push(sample.tpotMs);
    this.outputTokens += sample.outputTokens;
    if (sample.promptTokens !== undefined) {
      this.promptTokens += sample.promptTokens;
      this.promptCounted++;
    }
  }

  summary(target: LoadTestTarget, settings: LoadTestSettings, elapsedMs: number): LoadTestSummary {
    const requests = this.ok + this.failed;
    const seconds = elapsedMs / 1000;
    return {
      target,
      settings,
      elapsedMs,
      requests,
      succeeded: this.ok,
      failed: this.failed,
      errorRate: requests === 0 ? 0 : this.failed / requests,
      errors: Object.fromEntries([...this.errors].sort((a, b) => b[1] - a[1])),
      requestsPerSecond: seconds > 0 ? this.ok / seconds : 0,
      outputTokens: this.outputTokens,
      outputTokensPerSecond: seconds > 0 ? this.outputTokens / seconds : 0,
      meanPromptTokens: this.promptCounted > 0 ? this.promptTokens / this.promptCounted : undefined,
      meanOutputTokens: this.ok > 0 && this.outputTokens > 0 ? this.outputTokens / this.ok : undefined,
      latency: distribution(this.latency),
      ttft: distribution(this.ttft),
      tpot: distribution(this.tpot),
      ...(settings.rate === undefined
        ? {}
        : { sendLag: distribution(this.lag), lateSends: this.lag.filter((ms) => ms > LATE_SEND_MS).length }),
    };
  }
}

/** Nearest-rank percentiles. */
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
    target.protocol === "mlflow"
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
    "",
  ];
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
  return `${lines.join("\n")}\n`;
}
