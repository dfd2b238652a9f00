/**
 * One OpenAI request's life as an MLflow trace (MLflow 3's TraceInfoV3, spans inline; see tracing-api.ts in
 * protocol): what `LlmTracer.begin` hands the edge for a sampled request, fed by the same observation that accounts
 * usage (`Admission` in server/llm-access.ts), and handed to the exporter once the request ends.
 *
 * - Root span (`chat.completions` or `completions`): `mlflow.spanType` CHAT_MODEL or LLM; inputs the request's
 *   messages or prompt and outputs the answer text, both cut to {@link MAX_IO_CHARS}; attributes: model, engine,
 *   API key NAME (never the secret), prompt and completion tokens, finish reason, stream or not, the request id;
 *   its status ERROR with the error's message when the request failed.
 * - Child spans: `queue` (arrival until the engine accepted the request: prompt rendered, admitted to its queue),
 *   `prefill` (until the first token; for llama.cpp this includes waiting for a free sequence, which the engine does
 *   not report apart) and `decode` (first token to the end), each present when the request got that far.
 * - `client_request_id` is the request's `x-request-id`; `trace_metadata` carries the token counts (also as MLflow's
 *   `mlflow.trace.tokenUsage`); previews are cut to {@link PREVIEW_CHARS}.
 *
 * Span attribute values are JSON text, as MLflow's spans hold them; ids are OpenTelemetry's hex.
 */
import { randomBytes } from "node:crypto";
import type { Trace, TraceSpan } from "@slipway/protocol";
import type { TraceExporter } from "./trace-exporter.js";

/** Characters of a span's inputs and outputs (JSON text) kept. */
export const MAX_IO_CHARS = 16_000;
/** Characters of request_preview and response_preview. */
export const PREVIEW_CHARS = 1000;

export interface TracedRequest {
  kind: "chat" | "completion";
  /** Chat messages, or the completion prompt(s): cut when serialised. */
  input: unknown;
  streaming: boolean;
  /** `llama.cpp`, `upstream`... */
  engine: string;
}

export interface TraceStart {
  requestId: string;
  model: string;
  /** The API key's (or user's) name; absent without auth. */
  caller?: string;
  /** `performance.now()` when the request arrived. */
  started: number;
}

export interface TraceEnd {
  promptTokens: number;
  completionTokens: number;
  /** Absent when the request succeeded. */
  error?: unknown;
}

export class LlmTracer {
  constructor(
    private readonly exporter: TraceExporter,
    private readonly sampleRate = 1,
    private readonly random: () => number = Math.random,
  ) {
    if (!(sampleRate >= 0 && sampleRate <= 1))
      throw new RangeError(`sampleRate must be from 0 to 1, got ${sampleRate}`);
  }

  /** A recorder for a sampled request, undefined for the others. Never throws. */
  begin(start: TraceStart, request: TracedRequest): LlmTraceRecorder | undefined {
    if (this.sampleRate < 1 && !(this.random() < this.sampleRate)) return undefined;
    return new LlmTraceRecorder(this.exporter, start, request);
  }

  close(timeoutMs?: number): Promise<void> {
    return this.exporter.close(timeoutMs);
  }
}

const NANOS_PER_MS = 1_000_000n;

export class LlmTraceRecorder {
  private readonly wallStart: number;
  private accepted: number | undefined;
  private firstToken: number | undefined;
  private readonly texts: string[] = [];
  private textChars = 0;
  private finishReason: string | undefined;
  private ended = false;

  constructor(
    private readonly exporter: TraceExporter,
    private readonly start: TraceStart,
    private readonly request: TracedRequest,
  ) {
    // the wall clock when the request arrived
    this.wallStart = Date.now() - (performance.now() - start.started);
  }

  /** The engine accepted the request: its stream exists. */
  acceptedNow(): void {
    this.accepted ??= performance.now();
  }

  text(choice: number, text: string): void {
    this.firstToken ??= performance.now();
    if (this.textChars >= MAX_IO_CHARS) return;
    const piece = text.slice(0, MAX_IO_CHARS - this.textChars);
    this.texts[choice] = (this.texts[choice] ?? "") + piece;
    this.textChars += piece.length;
  }

  finish(reason: string): void {
    this.finishReason ??= reason;
  }

  /** The request ended (answered, failed, or left by the client): builds the trace and queues it. Never throws. */
  end(end: TraceEnd): void {
    if (this.ended) return;
    this.ended = true;
    const now = performance.now();
    // built after the response goes out, not before
    setImmediate(() => {
      try {
        this.exporter.offer(this.build(end, now));
      } catch {
        // a trace must never fail its request
      }
    });
  }

  private build(end: TraceEnd, now: number): Trace {
    const traceId = randomBytes(16).toString("hex");
    const { kind, streaming, engine } = this.request;
    const { requestId, model, caller, started } = this.start;
    const wall = (t: number) =>
      BigInt(Math.round(this.wallStart * 1000 + (t - started) * 1000)) * (NANOS_PER_MS / 1000n);
    const failed = end.error !== undefined;
    const message = failed ? errorMessage(end.error) : "";
    const answer = this.texts.filter((t) => t !== undefined).join("\n");
    const inputs = boundedJson(this.request.input, MAX_IO_CHARS);
    const rootId = spanId();
    const name = kind === "chat" ? "chat.completions" : "completions";
    const status = (error: boolean) =>
      error ? { code: "STATUS_CODE_ERROR", message } : { code: "STATUS_CODE_OK", message: "" };
    const span = (o: {
      id: string;
      parent?: string;
      name: string;
      from: number;
      to: number;
      attributes: object;
      error?: boolean;
    }): TraceSpan => ({
      trace_id: traceId,
      span_id: o.id,
      ...(o.parent === undefined ? {} : { parent_span_id: o.parent }),
      name: o.name,
      start_time_unix_nano: Number(wall(o.from)),
      end_time_unix_nano: Number(wall(o.to)),
      attributes: Object.fromEntries(Object.entries(o.attributes).map(([k, v]) => [k, JSON.stringify(v)])),
      status: status(o.error ?? false),
      events: [],
    });
    const traceRequestId = `tr-${traceId}`;
    const spans: TraceSpan[] = [
      span({
        id: rootId,
        name,
        from: started,
        to: now,
        error: failed,
        attributes: {
          "mlflow.traceRequestId": traceRequestId,
          "mlflow.spanType": kind === "chat" ? "CHAT_MODEL" : "LLM",
          "mlflow.spanInputs": inputs,
          "mlflow.spanOutputs": cut(answer, MAX_IO_CHARS),
          "slipway.model": model,
          "slipway.engine": engine,
          ...(caller === undefined ? {} : { "slipway.api_key": caller }),
          "slipway.prompt_tokens": end.promptTokens,
          "slipway.completion_tokens": end.completionTokens,
          ...(this.finishReason === undefined ? {} : { "slipway.finish_reason": this.finishReason }),
          "slipway.stream": streaming,
          "slipway.request_id": requestId,
          ...(failed ? { "slipway.error": message } : {}),
        },
      }),
    ];
    const child = (childName: string, from: number, to: number, error = false) =>
      spans.push(
        span({
          id: spanId(),
          parent: rootId,
          name: childName,
          from,
          to,
          error,
          attributes: { "mlflow.traceRequestId": traceRequestId, "mlflow.spanType": "UNKNOWN" },
        }),
      );
    const accepted = this.accepted;
    child("queue", started, accepted ?? now, failed && accepted === undefined);
    if (accepted !== undefined) {
      child("prefill", accepted, this.firstToken ?? now, failed && this.firstToken === undefined);
      if (this.firstToken !== undefined) child("decode", this.firstToken, now, failed);
    }
    const usage = {
      input_tokens: end.promptTokens,
      output_tokens: end.completionTokens,
      total_tokens: end.promptTokens + end.completionTokens,
    };
    return {
      trace_info: {
        trace_id: traceRequestId,
        client_request_id: requestId,
        // the exporter fills in the experiment
        trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: "0" } },
        request_preview: cut(inputs, PREVIEW_CHARS),
        response_preview: cut(failed ? message : answer, PREVIEW_CHARS),
        request_time: new Date(this.wallStart).toISOString(),
        execution_duration: `${((now - started) / 1000).toFixed(6)}s`,
        state: failed ? "ERROR" : "OK",
        trace_metadata: {
          "mlflow.trace_schema.version": "3",
          "mlflow.trace.tokenUsage": JSON.stringify(usage),
          "slipway.llm.prompt_tokens": String(end.promptTokens),
          "slipway.llm.completion_tokens": String(end.completionTokens),
          "slipway.llm.request_id": requestId,
        },
        tags: {
          "mlflow.traceName": name,
          "slipway.llm.model": model,
          "slipway.llm.engine": engine,
          "slipway.llm.stream": String(streaming),
          ...(caller === undefined ? {} : { "slipway.llm.api_key": caller }),
        },
      },
      data: { spans },
    };
  }
}

function spanId(): string {
  return randomBytes(8).toString("hex");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** JSON text of a request's messages or prompt, at most `max` characters, without serialising all of a huge one. */
export function boundedJson(value: unknown, max: number): string {
  if (typeof value === "string") return cut(value, max);
  const each = (item: unknown) => {
    try {
      return JSON.stringify(item, (_key, v: unknown) => (typeof v === "string" ? cut(v, max) : v)) ?? "null";
    } catch {
      return String(item);
    }
  };
  if (!Array.isArray(value)) return cut(each(value), max);
  const parts: string[] = [];
  let total = 2;
  for (const item of value as unknown[]) {
    if (total > max) break;
    const text = each(item);
    parts.push(text);
    total += text.length + 1;
  }
  return cut(`[${parts.join(",")}]`, max);
}

function errorMessage(error: unknown): string {
  return cut(error instanceof Error ? error.message : String(error), 2000);
}
