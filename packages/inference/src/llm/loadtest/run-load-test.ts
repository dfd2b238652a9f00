/**
 * `slipway loadtest`: a closed-loop load generator for OpenAI-compatible servers (ours, vLLM, TGI,
 * Ollama, llama.cpp's server) and for the model server's MLflow `/invocations`. `concurrency` workers
 * each send a request, wait for its last byte, and send the next, until `requests` have been sent or
 * `durationMs` has passed (requests in flight then finish and count). The caller gets the summary
 * (see `load-report.ts`) and, while it runs, progress callbacks.
 */
import { LoadSamples, type LoadTestSummary } from "./load-report.js";
import { newLoadAgent, runRequest, syntheticPrompt, type RequestPlan } from "./load-request.js";

export interface LoadTestOptions {
  /** OpenAI: the API's base URL (`http://127.0.0.1:8000/v1`); MLflow: the server's URL (or its `/invocations`). */
  url: string;
  protocol: "openai" | "mlflow";
  /** OpenAI endpoint (default chat). */
  endpoint?: "chat" | "completions";
  /** OpenAI: the model name. */
  model?: string;
  concurrency: number;
  /** Requests to send; or */
  requests?: number;
  /** how long to keep sending. */
  durationMs?: number;
  /** OpenAI: prompt length (≈ tokens; default 128) and `max_tokens` (default 64). */
  promptTokens?: number;
  maxTokens?: number;
  stream?: boolean;
  /** OpenAI: send `ignore_eos` so every request generates `max_tokens` (default true; vLLM, llama.cpp and Slipway honour it). */
  ignoreEos?: boolean;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** MLflow: the request body (JSON text). */
  body?: string;
  /** `Authorization: Bearer …`. */
  apiKey?: string;
  /** Stops the run early (Ctrl-C): requests in flight are cancelled, the summary covers what finished. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  progressIntervalMs?: number;
}

export interface LoadProgress {
  done: number;
  errors: number;
  elapsedMs: number;
  /** 0…1 of the planned requests or duration. */
  fraction: number;
}

export const DEFAULT_PROMPT_TOKENS = 128;
export const DEFAULT_MAX_TOKENS = 64;
export const DEFAULT_LOAD_REQUESTS = 200;

export function requestPlan(options: LoadTestOptions): RequestPlan {
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const timeoutMs = options.timeoutMs ?? 60_000;
  const base = options.url.replace(/\/+$/, "");
  if (options.protocol === "mlflow") {
    const body = options.body ?? "{}";
    return {
      protocol: "mlflow",
      url: new URL(base.endsWith("/invocations") ? base : `${base}/invocations`),
      endpoint: "invocations",
      stream: false,
      headers,
      timeoutMs,
      body: () => body,
    };
  }
  const endpoint = options.endpoint ?? "chat";
  const stream = options.stream ?? false;
  const promptTokens = options.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const common = {
    model: options.model,
    max_tokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(options.ignoreEos === false ? {} : { ignore_eos: true }),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  return {
    protocol: "openai",
    url: new URL(`${base}/${endpoint === "chat" ? "chat/completions" : "completions"}`),
    endpoint,
    stream,
    headers,
    timeoutMs,
    body: (index) => {
      const prompt = syntheticPrompt(index, promptTokens);
      return JSON.stringify(
        endpoint === "chat" ? { ...common, messages: [{ role: "user", content: prompt }] } : { ...common, prompt },
      );
    },
  };
}

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestSummary> {
  const plan = requestPlan(options);
  const planned = options.durationMs === undefined ? (options.requests ?? DEFAULT_LOAD_REQUESTS) : undefined;
  const agent = newLoadAgent(plan.url, options.concurrency);
  const stop = options.signal ?? new AbortController().signal;
  const samples = new LoadSamples();
  const started = performance.now();
  let sent = 0;
  let finished = started;
  const elapsed = () => performance.now() - started;
  const more = () => !stop.aborted && (planned !== undefined ? sent < planned : elapsed() < (options.durationMs ?? 0));
  const progress = () =>
    options.onProgress?.({
      done: samples.done,
      errors: samples.errorCount,
      elapsedMs: elapsed(),
      fraction: Math.min(
        1,
        planned !== undefined ? samples.done / planned : elapsed() / Math.max(1, options.durationMs ?? 1),
      ),
    });
  const ticker = options.onProgress ? setInterval(progress, options.progressIntervalMs ?? 200) : undefined;
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (more()) {
          const index = sent++;
          const sample = await runRequest(plan, index, agent, stop);
          // requests cut off by Ctrl-C are not the server's errors
          if (sample.errorKind !== "cancelled") samples.add(sample);
          finished = performance.now();
        }
      }),
    );
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  progress();
  return samples.summary(
    {
      url: options.url,
      model: options.model,
      protocol: plan.protocol,
      endpoint: plan.endpoint,
      stream: plan.stream,
    },
    {
      concurrency: options.concurrency,
      requests: planned,
      durationMs: options.durationMs,
      promptTokens: plan.protocol === "openai" ? (options.promptTokens ?? DEFAULT_PROMPT_TOKENS) : undefined,
      maxTokens: plan.protocol === "openai" ? (options.maxTokens ?? DEFAULT_MAX_TOKENS) : undefined,
    },
    finished - started,
  );
}
