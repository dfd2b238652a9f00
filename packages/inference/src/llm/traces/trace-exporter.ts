/**
 * Sends the LLM server's request traces to a tracking server (MLflow 3's StartTraceV3, `POST /api/3.0/mlflow/traces`,
 * spans inline) through a `BoundedSender` (serving/bounded-sender.ts), as the model server's inference logger does:
 * tracing must never slow or fail a request, so the request path only calls `offer`, which is synchronous, never
 * throws and appends to a bounded buffer; a trace that does not fit is dropped and counted. Everything else happens
 * off the request path:
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
import {
  BoundedSender,
  SEND_OUTCOMES,
  messageOf,
  type SendOutcome,
  type SenderStats,
} from "../../serving/bounded-sender.js";

export type TraceOutcome = SendOutcome;

export const DEFAULT_TRACE_BUFFER = 1000;
export const DEFAULT_TRACE_CONCURRENCY = 2;

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

export type TraceExporterStats = SenderStats;

export class TraceExporter {
  readonly experiment: string;
  private readonly client: TrackingClientBase;
  private readonly sender: BoundedSender<Trace>;
  private experimentId: Promise<string> | undefined;

  constructor(options: TraceExporterOptions) {
    this.client = options.client;
    this.experiment = options.experiment;
    let counter: Counter<"outcome"> | undefined;
    this.sender = new BoundedSender<Trace>({
      prefix: "traces",
      items: "traces",
      maxBuffer: options.maxBuffer ?? DEFAULT_TRACE_BUFFER,
      maxBatch: 1,
      concurrency: options.concurrency ?? DEFAULT_TRACE_CONCURRENCY,
      send: ([trace], signal) => this.send(trace!, signal),
      onCount: (outcome, n) => counter?.inc({ outcome }, n),
      ...(options.onReport ? { onReport: options.onReport } : {}),
    });
    if (options.metrics) {
      counter = new Counter({
        name: "slipway_llm_traces_total",
        help: "Request traces of the LLM server, by outcome (sent to the tracking server, or dropped and why).",
        labelNames: ["outcome"],
        registers: [options.metrics],
      });
      for (const outcome of SEND_OUTCOMES) counter.inc({ outcome }, 0);
      const sender = this.sender;
      new Gauge({
        name: "slipway_llm_trace_buffer",
        help: "Request traces waiting to be sent to the tracking server.",
        registers: [options.metrics],
        collect() {
          this.set(sender.buffered);
        },
      });
    }
  }

  /** Queues a finished trace. Never throws, never waits. */
  offer(trace: Trace): void {
    this.sender.offer([trace]);
  }

  stats(): TraceExporterStats {
    return this.sender.stats();
  }

  /** Stops taking traces and sends those waiting, giving up at the deadline (default 5 s). Never rejects. */
  close(timeoutMs?: number): Promise<void> {
    return this.sender.close(timeoutMs);
  }

  private async send(trace: Trace, signal: AbortSignal): Promise<"sent" | "dropped_rejected" | "dropped_send_failed"> {
    try {
      const experimentId = await this.resolveExperiment();
      trace.trace_info.trace_location = {
        type: "MLFLOW_EXPERIMENT",
        mlflow_experiment: { experiment_id: experimentId },
      };
      await startTrace(this.client, trace, { signal });
      return "sent";
    } catch (error) {
      const status = error instanceof MlflowError ? error.status : undefined;
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        const what = `${status} ${(error as MlflowError).code}`;
        this.sender.report(
          `rejected ${what}`,
          `traces: ${this.client.trackingUri} rejected a trace: ${what}: ${messageOf(error)}; such traces are dropped and counted (outcome="dropped_rejected"), this is reported once`,
        );
        return "dropped_rejected";
      }
      const reason = signal.aborted ? "stopped at the close deadline" : messageOf(error);
      this.sender.report(
        `failed ${reason.slice(0, 80)}`,
        `traces: sending a trace to ${this.client.trackingUri} failed (${reason}); such traces are dropped and counted (outcome="dropped_send_failed"), this is reported once`,
      );
      return "dropped_send_failed";
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
}
