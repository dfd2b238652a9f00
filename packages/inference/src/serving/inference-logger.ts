/**
 * The inference log: a sample of the requests a model server answers, one record per row (the row's
 * inputs, its prediction as the response showed it, the request id, the model that served it), sent in
 * batches to the control plane (`POST {trackingUri}/api/2.0/slipway/inference-log`), where feedback can
 * later be joined to it by request id.
 *
 * Requests answered with an error (4xx, 5xx) for a served model are offered too (`offerError`): one record
 * each, `row_index` 0, `inputs` `{}`, `outputs` null and the answer's `status`, sampled at the same rate and
 * through the same buffer and counters, so that monitors can compute error rates.
 *
 * Logging must never slow or fail a request, so the request path only calls `offer` or `offerError`:
 * synchronous, never throwing, O(rows) and only for sampled requests. It decides sampling per request (every row of a
 * sampled request is logged, none of the others), copies the row values it needs out of the request's
 * batch and prediction (the prediction's arrays are views of a merged batch, so keeping them would keep
 * the whole batch), and appends to a bounded buffer; a request that does not fit is dropped whole and
 * counted. Everything else happens off the request path:
 *
 * - a background loop sends a batch as soon as `maxBatch` records wait, and whatever waits every
 *   `flushIntervalMs`, one request at a time, each with a timeout;
 * - a network error, a timeout, a 5xx, 408 or 429 is retried with exponential backoff and jitter (or after
 *   `Retry-After`), within `maxAttempts` and a time budget; then the batch is dropped and counted. The
 *   endpoint ignores duplicates by (request_id, row_index), so a retry after a lost answer is safe;
 * - any other 4xx is final: the batch is dropped and counted;
 * - each kind of failure is reported once (`onReport`), not once per batch; the counters carry the rest.
 *
 * `close()` sends what remains within a deadline and stops the timers. Timers are unref'd: a logger never
 * keeps a process alive, except the close deadline, which bounds how long shutdown waits for the flush.
 *
 * Metrics (with `metrics`): `slipway_inference_log_records_total{outcome}` (sent, dropped_buffer_full,
 * dropped_send_failed, dropped_rejected) and `slipway_inference_log_buffer_records`.
 */
import type { Column, InputBatch, PredictionBatch } from "../predictors/predictor.js";
import { rowToJson } from "../predictors/tensors.js";
import { BoundedSender, messageOf, positive, type SenderStats } from "./bounded-sender.js";
import type { InferenceLogOutcome, InferenceMetrics } from "./metrics.js";

/** The control plane's inference-log route, below the tracking URI. */
export const INFERENCE_LOG_PATH = "/api/2.0/slipway/inference-log";

export const DEFAULT_LOG_MAX_BUFFER = 10_000;
export const DEFAULT_LOG_MAX_BATCH = 1000;
/** The endpoint takes at most this many records per call. */
export const LOG_BATCH_LIMIT = 5000;

/** One row as the endpoint takes it. */
export interface InferenceLogRecord {
  request_id: string;
  row_index: number;
  model_name: string;
  model_version: string;
  timestamp_ms: number;
  /** The row's inputs: column (or tensor) name → value. */
  inputs: Record<string, unknown>;
  /** The row's prediction, as the response showed it. */
  outputs: unknown;
  /** The HTTP status of the answer: absent for a prediction (the endpoint's default, 200). */
  status?: number;
  latency_ms?: number;
  server?: string;
}

/** What a protocol handler hands over about a request it answered with a prediction. */
export interface ServedPrediction {
  model: { readonly name: string; readonly version?: string | undefined };
  /** The request's canonical batch (`ServedModel.predictWithInput`). */
  input: InputBatch;
  /** This request's rows of the prediction. */
  prediction: PredictionBatch;
  /**
   * How the response shows one row's prediction: the value of the (single) output, or an object of
   * output name → the row's value.
   */
  rowForm: "value" | "record";
  /** The outputs the response carried (KServe's `outputs`); all when absent. */
  outputNames?: readonly string[] | undefined;
}

/** What the app hands over about a request for a served model that it answered with an error. */
export interface FailedRequest {
  model: { readonly name: string; readonly version?: string | undefined };
  /** The answer's HTTP status, 400 to 599. */
  status: number;
}

export interface InferenceLoggerOptions {
  /** The endpoint's URL (`user:pass@` becomes a Basic authorization header). */
  endpoint: string;
  /** Fraction of requests logged, 0 to 1. */
  sampleRate: number;
  /** Most records waiting to be sent (default 10,000); beyond it requests are dropped and counted. */
  maxBuffer?: number;
  /** Most records per call (default 1000, at most 5000). */
  maxBatch?: number;
  /** Send what waits at least this often, in ms (default 1000). */
  flushIntervalMs?: number;
  /** Per attempt, in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts per batch, the first included (default 5). */
  maxAttempts?: number;
  /** First retry delay, in ms, doubled per attempt with jitter (default 200). */
  retryBaseMs?: number;
  /** Longest wait between attempts, `Retry-After` included, in ms (default 10,000). */
  maxRetryDelayMs?: number;
  /** No retry starts this long (ms) after a batch's first attempt (default 30,000). */
  retryBudgetMs?: number;
  /** This server, as records name it (a host or pod name). */
  server?: string;
  /** The server's metrics, to register the log's counters and gauge on. */
  metrics?: InferenceMetrics;
  /** One line per kind of failure (default: standard error). */
  onReport?: (line: string) => void;
  /** Sampling's random source, [0, 1) (tests seed it; default `Math.random`). */
  random?: () => number;
}

/** Records by outcome since the logger started, and those waiting now. */
export type InferenceLogStats = SenderStats;

type Attempt =
  | { kind: "sent" }
  | { kind: "rejected"; status: number; code: string; message: string }
  | { kind: "retry"; reason: string; retryAfterMs?: number };

export class InferenceLogger {
  readonly endpoint: string;
  readonly sampleRate: number;
  readonly maxBuffer: number;
  readonly maxBatch: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly retryBudgetMs: number;
  private readonly server: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly random: () => number;
  private readonly sender: BoundedSender<InferenceLogRecord>;

  constructor(options: InferenceLoggerOptions) {
    const { sampleRate } = options;
    if (!(sampleRate >= 0 && sampleRate <= 1))
      throw new RangeError(`sampleRate must be from 0 to 1, got ${sampleRate}`);
    this.sampleRate = sampleRate;
    this.maxBuffer = positive("maxBuffer", options.maxBuffer ?? DEFAULT_LOG_MAX_BUFFER);
    this.maxBatch = positive("maxBatch", options.maxBatch ?? DEFAULT_LOG_MAX_BATCH);
    if (this.maxBatch > LOG_BATCH_LIMIT) throw new RangeError(`maxBatch must be at most ${LOG_BATCH_LIMIT}`);
    const flushIntervalMs = positive("flushIntervalMs", options.flushIntervalMs ?? 1000);
    this.timeoutMs = positive("timeoutMs", options.timeoutMs ?? 5000);
    this.maxAttempts = positive("maxAttempts", options.maxAttempts ?? 5);
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.retryBudgetMs = options.retryBudgetMs ?? 30_000;
    this.server = options.server;
    const { url, authorization } = splitCredentials(options.endpoint);
    this.endpoint = url;
    this.headers = {
      "content-type": "application/json",
      ...(authorization === undefined ? {} : { authorization }),
    };
    this.random = options.random ?? Math.random;
    // read at scrape time, once the sender exists
    const series = options.metrics?.inferenceLog(() => this.sender.buffered);
    // one request at a time: the endpoint takes big batches, and order is kept
    this.sender = new BoundedSender<InferenceLogRecord>({
      prefix: "inference log",
      items: "records",
      maxBuffer: this.maxBuffer,
      maxBatch: this.maxBatch,
      concurrency: 1,
      flushIntervalMs,
      send: (batch, signal) => this.send(batch, signal),
      ...(series ? { onCount: (outcome: InferenceLogOutcome, n: number) => series[outcome].inc(n) } : {}),
      ...(options.onReport ? { onReport: options.onReport } : {}),
    });
  }

  /** Starts the periodic flush. Records offered before are kept and sent then. */
  start(): void {
    this.sender.start();
  }

  /**
   * Offers one answered request to the log: sampled (per request), copied row by row into the buffer,
   * or dropped and counted when the buffer cannot take all of its rows. Never throws, never waits.
   */
  offer(requestId: string, served: ServedPrediction, latencyMs: number): void {
    try {
      if (this.sampleRate < 1 && !(this.random() < this.sampleRate)) return;
      this.sender.offer(records(requestId, served, latencyMs, this.server));
    } catch (error) {
      this.sender.report("offer", `inference log: a prediction could not be logged: ${messageOf(error)}`);
    }
  }

  /**
   * Offers one request answered with an error (`status` 400 to 599; others are ignored) as one record:
   * `row_index` 0, `inputs` `{}`, `outputs` null. Sampled like `offer`, through the same buffer and
   * counters. Never throws, never waits.
   */
  offerError(requestId: string, failed: FailedRequest, latencyMs: number): void {
    try {
      const { status } = failed;
      if (!Number.isInteger(status) || status < 400 || status > 599) return;
      if (this.sampleRate < 1 && !(this.random() < this.sampleRate)) return;
      this.sender.offer([
        {
          request_id: requestId,
          row_index: 0,
          model_name: failed.model.name,
          model_version: failed.model.version ?? "",
          timestamp_ms: Date.now(),
          inputs: {},
          outputs: null,
          status,
          latency_ms: roundLatency(latencyMs),
          server: this.server,
        },
      ]);
    } catch (error) {
      this.sender.report("offerError", `inference log: a failed request could not be logged: ${messageOf(error)}`);
    }
  }

  /** Records by outcome so far, and those waiting. */
  stats(): InferenceLogStats {
    return this.sender.stats();
  }

  /**
   * Stops taking records and sends those waiting, giving up at the deadline (default 5 s): what is
   * still unsent then is dropped and counted. Resolves when done; never rejects.
   */
  close(timeoutMs?: number): Promise<void> {
    return this.sender.close(timeoutMs);
  }

  private async send(
    batch: InferenceLogRecord[],
    signal: AbortSignal,
  ): Promise<"sent" | "dropped_rejected" | "dropped_send_failed"> {
    let body: string;
    try {
      body = JSON.stringify({ records: batch });
    } catch (error) {
      this.sender.report(
        "encode",
        `inference log: records could not be encoded as JSON (${messageOf(error)}); dropped`,
      );
      return "dropped_rejected";
    }
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(body, signal);
      if (result.kind === "sent") return "sent";
      if (result.kind === "rejected") {
        const what = result.code === "" ? String(result.status) : `${result.status} ${result.code}`;
        const hint = result.status === 404 ? " (does the tracking server have the inference log?)" : "";
        this.sender.report(
          `rejected ${what}`,
          `inference log: ${this.endpoint} rejected ${batch.length} records: ${what}: ${result.message}${hint}; records it rejects are dropped and counted (outcome="dropped_rejected"), this is reported once`,
        );
        return "dropped_rejected";
      }
      const delay = Math.min(result.retryAfterMs ?? this.backoff(attempt), this.maxRetryDelayMs);
      const outOfTime = performance.now() - started + delay > this.retryBudgetMs;
      if (attempt >= this.maxAttempts || outOfTime || signal.aborted) {
        this.sender.report(
          `failed ${result.reason}`,
          `inference log: sending ${batch.length} records to ${this.endpoint} failed after ${attempt} attempt${attempt === 1 ? "" : "s"} (${result.reason}); such records are dropped and counted (outcome="dropped_send_failed"), this is reported once`,
        );
        return "dropped_send_failed";
      }
      await sleep(delay, signal);
    }
  }

  private backoff(attempt: number): number {
    const exp = this.retryBaseMs * 2 ** (attempt - 1);
    return exp / 2 + (Math.random() * exp) / 2;
  }

  private async attempt(body: string, stop: AbortSignal): Promise<Attempt> {
    const signal = AbortSignal.any([stop, AbortSignal.timeout(this.timeoutMs)]);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(this.endpoint, { method: "POST", headers: this.headers, body, signal });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (error) {
      if (stop.aborted) return { kind: "retry", reason: "stopped at the close deadline" };
      const e = error as { name?: string; cause?: { code?: string } };
      if (e.name === "TimeoutError") return { kind: "retry", reason: `timed out after ${this.timeoutMs} ms` };
      return { kind: "retry", reason: `network error: ${e.cause?.code ?? messageOf(error)}` };
    }
    if (status >= 200 && status < 300) return { kind: "sent" };
    if (status >= 500 || status === 408 || status === 429) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return { kind: "retry", reason: `HTTP ${status}`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    let code = "";
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof parsed.error_code === "string") code = parsed.error_code;
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // not JSON: the text is the message
    }
    return { kind: "rejected", status, code, message };
  }
}

// ---------------------------------------------------------------------------------------------
// Records

/** One record per row of the request. */
function records(
  requestId: string,
  served: ServedPrediction,
  latencyMs: number,
  server: string | undefined,
): InferenceLogRecord[] {
  const { input, model } = served;
  const modelName = model.name;
  const modelVersion = model.version ?? "";
  const timestamp = Date.now();
  const latency = roundLatency(latencyMs);
  const out: InferenceLogRecord[] = [];
  for (let r = 0; r < input.rows; r++) {
    const inputs: Record<string, unknown> = {};
    if (input.kind === "columns") for (const [name, column] of input.columns) inputs[name] = columnValue(column, r);
    else for (const [name, t] of input.tensors) inputs[name] = rowToJson(t, r);
    out.push({
      request_id: requestId,
      row_index: r,
      model_name: modelName,
      model_version: modelVersion,
      timestamp_ms: timestamp,
      inputs,
      outputs: rowOutputs(served, r),
      latency_ms: latency,
      server,
    });
  }
  return out;
}

/** Row `r` of the prediction as the response showed it. */
function rowOutputs(served: ServedPrediction, r: number): unknown {
  const outputs = served.prediction.outputs;
  if (served.rowForm === "value") {
    for (const t of outputs.values()) return rowToJson(t, r);
    return null;
  }
  const record: Record<string, unknown> = {};
  if (served.outputNames === undefined) for (const [name, t] of outputs) record[name] = rowToJson(t, r);
  else {
    for (const name of served.outputNames) {
      const t = outputs.get(name);
      if (t) record[name] = rowToJson(t, r);
    }
  }
  return record;
}

/** Row `r` of a column as a JSON value (null where the request gave null). */
function columnValue(column: Column, r: number): unknown {
  switch (column.kind) {
    case "float64":
    case "float32":
      return column.missing?.[r] === 1 ? null : column.values[r];
    case "string":
      return column.missing?.[r] === 1 ? null : column.values[r];
    case "bool":
      return column.missing?.[r] === 1 ? null : column.values[r] === 1;
    case "value":
      return column.values[r] ?? null;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Milliseconds to the microsecond. */
function roundLatency(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** `Retry-After` as ms: delay-seconds or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Strips `user:pass@` from a URL (fetch refuses such URLs), returning it as a Basic authorization header. */
function splitCredentials(endpoint: string): { url: string; authorization?: string } {
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new RangeError(`endpoint must be an http(s) URL, got '${endpoint}'`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RangeError(`endpoint must be an http(s) URL, got '${endpoint}'`);
  }
  if (parsed.username === "" && parsed.password === "") return { url: parsed.toString() };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.toString(), authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` };
}

/** Waits `ms`, or less when `signal` aborts; never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
  });
}
