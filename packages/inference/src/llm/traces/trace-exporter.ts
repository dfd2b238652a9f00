/**
 * Sends the LLM server's request traces to a tracking server (MLflow 3's StartTraceV3, `POST /api/3.0/mlflow/traces`,
 * spans inline), in the spirit of the model server's inference logger (serving/inference-logger.ts): tracing must
 * never slow or fail a request, so the request path only calls `offer`, which is synchronous, never throws and
 * appends to a bounded buffer; a trace that does not fit is dropped and counted. Everything else happens off the
 * request path:
 *
 * - up to `concurrency` sends run at a time, each through the SDK's client: its transport times each attempt out
 *   and retries network errors, 5xx and 429 with backoff and jitter, honouring `Retry-After` (`retry` policy);
 *   then the trace is dropped and counted (`dropped_send_failed`). A 4xx is final (`dropped_rejected`). Writing a
 *   trace id twice stores it once (the server replaces it), so a retry after a lost answer is safe;
 * - the experiment (`--trace-experiment NAME_OR_ID`) is looked up, or created when named and missing, on the first
 *   send, and again after a failure: a tracking server that is down at startup does not stop the LLM server;
 * - each kind of failure is reported once (`onReport`); the counters carry the rest.
 *
 * `close()` sends what remains within a deadline (SIGTERM), then drops and counts the rest. Nothing keeps the process
 * alive but that deadline.
 *
 * Metrics (with `metrics`): `slipway_llm_traces_total{outcome}` (sent, dropped_buffer_full, dropped_send_failed,
 * dropped_rejected) and `slipway_llm_trace_buffer` (traces waiting).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { MlflowError, type Trace } from "@slipway/protocol";
import { startTrace, type TrackingClientBase } from "@slipway/sdk";

export type TraceOutcome = "sent" | "dropped_buffer_full" | "dropped_send_failed" | "dropped_rejected";
const OUTCOMES: readonly TraceOutcome[] = ["sent", "dropped_buffer_full", "dropped_send_failed", "dropped_rejected"];

export const DEFAULT_TRACE_BUFFER = 1000;
export const DEFAULT_TRACE_CONCURRENCY = 2;
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
const MAX_REPORTED_KINDS = 64;

export interface TraceExporterOptions {
  /** The tracking server's client; its transport's retry policy and timeout apply to each send. */
  client: TrackingClientBase;
  /** An experiment id (digits) or name (created when missing). */
  experiment: string;
  /** Most traces waiting (default 1000); beyond it traces are dropped and counted. */
  maxBuffer?: number;
  /** Sends in flight at once (default 2). */
  concurrency?: number;
  /** Registers the exporter's counter and gauge. */
  metrics?: Registry;
  /** One line per kind of failure (default: standard error). */
  onReport?: (line: string) => void;
}

export type TraceExporterStats = Record<TraceOutcome, number> & { buffered: number };

export class TraceExporter {
  readonly experiment: string;
  private readonly client: TrackingClientBase;
  private readonly maxBuffer: number;
  private readonly concurrency: number;
  private readonly onReport: (line: string) => void;
  private readonly totals: Record<TraceOutcome, number> = {
    sent: 0,
    dropped_buffer_full: 0,
    dropped_send_failed: 0,
    dropped_rejected: 0,
  };
  private readonly counter: Counter<"outcome"> | undefined;
  private buffer: Trace[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  private experimentId: Promise<string> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  /** Aborted at the close deadline: ends the sends in flight and their backoff. */
  private readonly abort = new AbortController();
  private readonly reported = new Set<string>();

  constructor(options: TraceExporterOptions) {
    this.client = options.client;
    this.experiment = options.experiment;
    this.maxBuffer = positive("maxBuffer", options.maxBuffer ?? DEFAULT_TRACE_BUFFER);
    this.concurrency = positive("concurrency", options.concurrency ?? DEFAULT_TRACE_CONCURRENCY);
    this.onReport = options.onReport ?? ((line) => process.stderr.write(`${line}\n`));
    if (options.metrics) {
      this.counter = new Counter({
        name: "slipway_llm_traces_total",
        help: "Request traces of the LLM server, by outcome (sent to the tracking server, or dropped and why).",
        labelNames: ["outcome"],
        registers: [options.metrics],
      });
      for (const outcome of OUTCOMES) this.counter.inc({ outcome }, 0);
      const buffered = () => this.buffer.length;
      new Gauge({
        name: "slipway_llm_trace_buffer",
        help: "Request traces waiting to be sent to the tracking server.",
        registers: [options.metrics],
        collect() {
          this.set(buffered());
        },
      });
    }
  }

  /** Queues a finished trace. Never throws, never waits. */
  offer(trace: Trace): void {
    try {
      if (this.closed) {
        this.count("dropped_send_failed");
        return;
      }
      if (this.buffer.length >= this.maxBuffer) {
        this.count("dropped_buffer_full");
        return;
      }
      this.buffer.push(trace);
      this.schedule();
    } catch (error) {
      this.reportOnce("offer", `traces: a trace could not be queued: ${messageOf(error)}`);
    }
  }

  stats(): TraceExporterStats {
    return { ...this.totals, buffered: this.buffer.length };
  }

  /** Stops taking traces and sends those waiting, giving up at the deadline (default 5 s). Never rejects. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    const deadline = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      this.pump();
      while (this.inFlight > 0 || (this.buffer.length > 0 && !this.abort.signal.aborted)) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
          // the abort ends the sends; wake up to see
          this.abort.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      }
    } finally {
      clearTimeout(deadline);
      this.abort.abort();
      if (this.buffer.length > 0) {
        const n = this.buffer.length;
        this.buffer = [];
        this.count("dropped_send_failed", n);
        this.reportOnce("close", `traces: ${n} traces were still unsent at the close deadline; dropped`);
      }
    }
  }

  private count(outcome: TraceOutcome, n = 1): void {
    this.totals[outcome] += n;
    this.counter?.inc({ outcome }, n);
  }

  /** Sends start soon, never from the request path. */
  private schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    }).unref();
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.buffer.length > 0 && !this.abort.signal.aborted) {
      const trace = this.buffer.shift()!;
      this.inFlight++;
      void this.send(trace).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0) this.idle?.();
      });
    }
  }

  private async send(trace: Trace): Promise<void> {
    try {
      const experimentId = await this.resolveExperiment();
      trace.trace_info.trace_location = {
        type: "MLFLOW_EXPERIMENT",
        mlflow_experiment: { experiment_id: experimentId },
      };
      await startTrace(this.client, trace, { signal: this.abort.signal });
      this.count("sent");
    } catch (error) {
      const status = error instanceof MlflowError ? error.status : undefined;
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        this.count("dropped_rejected");
        const what = `${status} ${(error as MlflowError).code}`;
        this.reportOnce(
          `rejected ${what}`,
          `traces: ${this.client.trackingUri} rejected a trace: ${what}: ${messageOf(error)}; such traces are dropped and counted (outcome="dropped_rejected"), this is reported once`,
        );
        return;
      }
      this.count("dropped_send_failed");
      const reason = this.abort.signal.aborted ? "stopped at the close deadline" : messageOf(error);
      this.reportOnce(
        `failed ${reason.slice(0, 80)}`,
        `traces: sending a trace to ${this.client.trackingUri} failed (${reason}); such traces are dropped and counted (outcome="dropped_send_failed"), this is reported once`,
      );
    }
  }

  /** The experiment's id: digits are one; a name is looked up, or created. Retried after a failure. */
  private resolveExperiment(): Promise<string> {
    if (/^\d+$/.test(this.experiment)) return Promise.resolve(this.experiment);
    this.experimentId ??= this.client.getOrCreateExperiment(this.experiment).then(
      (e) => e.experiment_id,
      (error: unknown) => {
        this.experimentId = undefined;
        throw error;
      },
    );
    return this.experimentId;
  }

  private reportOnce(kind: string, line: string): void {
    if (this.reported.has(kind) || this.reported.size >= MAX_REPORTED_KINDS) return;
    this.reported.add(kind);
    try {
      this.onReport(line);
    } catch {
      // reporting must not break tracing
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
