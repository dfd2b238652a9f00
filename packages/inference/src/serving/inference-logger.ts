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
import type { InferenceLogOutcome, InferenceMetrics } from "./metrics.js";
import type { CounterSeries } from "./series-metrics.js";

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
export type InferenceLogStats = Record<InferenceLogOutcome, number> & { buffered: number };

type Attempt =
  | { kind: "sent" }
  | { kind: "rejected"; status: number; code: string; message: string }
  | { kind: "retry"; reason: string; retryAfterMs?: number };

const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
/** Most distinct failure kinds reported (each once); the counters carry everything. */
const MAX_REPORTED_KINDS = 64;

export class InferenceLogger {
  readonly endpoint: string;
  readonly sampleRate: number;
  readonly maxBuffer: number;
  readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly retryBudgetMs: number;
  private readonly server: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly random: () => number;
  private readonly onReport: (line: string) => void;
  private readonly series: Record<InferenceLogOutcome, CounterSeries> | undefined;
  private readonly totals: Record<InferenceLogOutcome, number> = {
    sent: 0,
    dropped_buffer_full: 0,
    dropped_send_failed: 0,
    dropped_rejected: 0,
  };
  private buffer: InferenceLogRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private wakeScheduled = false;
  private flushRequested = false;
  private draining: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Aborted at the close deadline: ends the send in flight and any backoff. */
  private readonly abort = new AbortController();
  private readonly reported = new Set<string>();

  constructor(options: InferenceLoggerOptions) {
    const { sampleRate } = options;
    if (!(sampleRate >= 0 && sampleRate <= 1))
      throw new RangeError(`sampleRate must be from 0 to 1, got ${sampleRate}`);
    this.sampleRate = sampleRate;
    this.maxBuffer = positive("maxBuffer", options.maxBuffer ?? DEFAULT_LOG_MAX_BUFFER);
    this.maxBatch = positive("maxBatch", options.maxBatch ?? DEFAULT_LOG_MAX_BATCH);
    if (this.maxBatch > LOG_BATCH_LIMIT) throw new RangeError(`maxBatch must be at most ${LOG_BATCH_LIMIT}`);
    this.flushIntervalMs = positive("flushIntervalMs", options.flushIntervalMs ?? 1000);
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
    this.onReport = options.onReport ?? ((line) => process.stderr.write(`${line}\n`));
    this.series = options.metrics?.inferenceLog(() => this.buffer.length);
  }

  /** Starts the periodic flush. Records offered before are kept and sent then. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => {
      if (this.buffer.length === 0) return;
      this.flushRequested = true;
      this.startDrain();
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Offers one answered request to the log: sampled (per request), copied row by row into the buffer,
   * or dropped and counted when the buffer cannot take all of its rows. Never throws, never waits.
   */
  offer(requestId: string, served: ServedPrediction, latencyMs: number): void {
    try {
      if (this.sampleRate < 1 && !(this.random() < this.sampleRate)) return;
      const rows = served.input.rows;
      if (this.closed) {
        this.count("dropped_send_failed", rows);
        return;
      }
      if (this.buffer.length + rows > this.maxBuffer) {
        this.count("dropped_buffer_full", rows);
        return;
      }
      appendRecords(this.buffer, requestId, served, latencyMs, this.server);
      if (this.buffer.length >= this.maxBatch) this.wake();
    } catch (error) {
      this.reportOnce("offer", `inference log: a prediction could not be logged: ${messageOf(error)}`);
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
      if (this.closed) {
        this.count("dropped_send_failed", 1);
        return;
      }
      if (this.buffer.length + 1 > this.maxBuffer) {
        this.count("dropped_buffer_full", 1);
        return;
      }
      this.buffer.push({
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
      });
      if (this.buffer.length >= this.maxBatch) this.wake();
    } catch (error) {
      this.reportOnce("offerError", `inference log: a failed request could not be logged: ${messageOf(error)}`);
    }
  }

  /** Records by outcome so far, and those waiting. */
  stats(): InferenceLogStats {
    return { ...this.totals, buffered: this.buffer.length };
  }

  /**
   * Stops taking records and sends those waiting, giving up at the deadline (default 5 s): what is
   * still unsent then is dropped and counted. Resolves when done; never rejects.
   */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // not unref'd: it bounds the flush, and keeps the process alive until the flush ends
    const deadline = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      this.startDrain();
      while (this.draining) await this.draining;
    } finally {
      clearTimeout(deadline);
      this.abort.abort();
      if (this.buffer.length > 0) {
        const n = this.buffer.length;
        this.buffer = [];
        this.count("dropped_send_failed", n);
        this.reportOnce("close", `inference log: ${n} records were still unsent at the close deadline; dropped`);
      }
    }
  }

  private count(outcome: InferenceLogOutcome, n: number): void {
    this.totals[outcome] += n;
    this.series?.[outcome].inc(n);
  }

  /** A full batch waits: send it soon, but never from the request path. */
  private wake(): void {
    if (this.wakeScheduled || this.draining) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.startDrain();
    }).unref();
  }

  private startDrain(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (!this.abort.signal.aborted && this.buffer.length > 0 && (this.closed || this.flushRequested)) {
        this.startDrain();
      }
    });
  }

  /** Sends full batches, and partial ones when a flush is due or the logger is closing. Never rejects. */
  private async drain(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const n = this.buffer.length;
      if (n === 0 || (n < this.maxBatch && !this.flushRequested && !this.closed)) break;
      if (n <= this.maxBatch) this.flushRequested = false;
      await this.send(this.take());
    }
  }

  private take(): InferenceLogRecord[] {
    if (this.buffer.length <= this.maxBatch) {
      const all = this.buffer;
      this.buffer = [];
      return all;
    }
    return this.buffer.splice(0, this.maxBatch);
  }

  private async send(batch: InferenceLogRecord[]): Promise<void> {
    let body: string;
    try {
      body = JSON.stringify({ records: batch });
    } catch (error) {
      this.count("dropped_rejected", batch.length);
      this.reportOnce("encode", `inference log: records could not be encoded as JSON (${messageOf(error)}); dropped`);
      return;
    }
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(body);
      if (result.kind === "sent") {
        this.count("sent", batch.length);
        return;
      }
      if (result.kind === "rejected") {
        this.count("dropped_rejected", batch.length);
        const what = result.code === "" ? String(result.status) : `${result.status} ${result.code}`;
        const hint = result.status === 404 ? " (does the tracking server have the inference log?)" : "";
        this.reportOnce(
          `rejected ${what}`,
          `inference log: ${this.endpoint} rejected ${batch.length} records: ${what}: ${result.message}${hint}; records it rejects are dropped and counted (outcome="dropped_rejected"), this is reported once`,
        );
        return;
      }
      const delay = Math.min(result.retryAfterMs ?? this.backoff(attempt), this.maxRetryDelayMs);
      const outOfTime = performance.now() - started + delay > this.retryBudgetMs;
      if (attempt >= this.maxAttempts || outOfTime || this.abort.signal.aborted) {
        this.count("dropped_send_failed", batch.length);
        this.reportOnce(
          `failed ${result.reason}`,
          `inference log: sending ${batch.length} records to ${this.endpoint} failed after ${attempt} attempt${attempt === 1 ? "" : "s"} (${result.reason}); such records are dropped and counted (outcome="dropped_send_failed"), this is reported once`,
        );
        return;
      }
      await sleep(delay, this.abort.signal);
    }
  }

  private backoff(attempt: number): number {
    const exp = this.retryBaseMs * 2 ** (attempt - 1);
    return exp / 2 + (Math.random() * exp) / 2;
  }

  private async attempt(body: string): Promise<Attempt> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(this.endpoint, { method: "POST", headers: this.headers, body, signal });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (error) {
      if (this.abort.signal.aborted) return { kind: "retry", reason: "stopped at the close deadline" };
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

  private reportOnce(kind: string, line: string): void {
    if (this.reported.has(kind) || this.reported.size >= MAX_REPORTED_KINDS) return;
    this.reported.add(kind);
    try {
      this.onReport(line);
    } catch {
      // reporting must not break logging
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Records

function appendRecords(
  buffer: InferenceLogRecord[],
  requestId: string,
  served: ServedPrediction,
  latencyMs: number,
  server: string | undefined,
): void {
  const { input, model } = served;
  const modelName = model.name;
  const modelVersion = model.version ?? "";
  const timestamp = Date.now();
  const latency = roundLatency(latencyMs);
  for (let r = 0; r < input.rows; r++) {
    const inputs: Record<string, unknown> = {};
    if (input.kind === "columns") for (const [name, column] of input.columns) inputs[name] = columnValue(column, r);
    else for (const [name, t] of input.tensors) inputs[name] = rowToJson(t, r);
    buffer.push({
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

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
