/**
 * Subscribes to Slipway's registry event stream (`GET /api/2.0/slipway/events`, server-sent events). The
 * subscription reconnects with backoff when the connection drops and resumes after the last event it
 * delivered (`Last-Event-ID`), so no event is lost or repeated across reconnects.
 *
 * ```ts
 * const controller = new AbortController();
 * await subscribeRegistryEvents("http://127.0.0.1:5000", {
 *   model: "churn",
 *   kinds: ["alias.set"],
 *   signal: controller.signal,
 *   onEvent: (event) => console.log(event.name, event.alias, event.version),
 * });
 * ```
 */
import { MlflowError, type RegistryEvent, type RegistryEventKind } from "@slipway/protocol";

export type { RegistryEvent, RegistryEventKind };

export interface SubscribeRegistryEventsOptions {
  /** Start after this event id (exclusive); default: from the first stored event. */
  after?: string | number;
  /** Only events of this registered model. */
  model?: string;
  /** Only these kinds. */
  kinds?: readonly RegistryEventKind[];
  /** Ends the subscription; the returned promise then resolves. */
  signal: AbortSignal;
  /** Called once per event, in order; the next event waits for a returned promise. */
  onEvent: (event: RegistryEvent) => void | Promise<void>;
  /** Called when a connection fails or drops, before reconnecting. */
  onError?: (error: unknown) => void;
  /** Reconnect delays: from `minDelayMs` (default 250), doubling to `maxDelayMs` (default 10 000). */
  minDelayMs?: number;
  maxDelayMs?: number;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/**
 * Delivers events until `signal` aborts. Rejects only on an answer that reconnecting cannot fix (a 4xx, such as
 * a bad `after` or an unknown kind) or when `onEvent` throws.
 */
export async function subscribeRegistryEvents(
  trackingUri: string,
  options: SubscribeRegistryEventsOptions,
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const { signal } = options;
  let lastId = options.after === undefined ? undefined : String(options.after);
  let delay = minDelay;

  const params = new URLSearchParams();
  if (options.model !== undefined) params.set("model", options.model);
  if (options.kinds !== undefined && options.kinds.length > 0) params.set("kinds", options.kinds.join(","));
  const query = params.toString();
  const url = `${trackingUri.replace(/\/+$/, "")}/api/2.0/slipway/events${query === "" ? "" : `?${query}`}`;

  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
      if (lastId !== undefined) headers["last-event-id"] = lastId;
      const response = await doFetch(url, { headers, signal });
      if (response.status >= 400 && response.status < 500) {
        const text = await response.text();
        let body: { error_code?: string; message?: string } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // not MLflow's error body
        }
        throw new FatalError(
          new MlflowError(body.error_code ?? "BAD_REQUEST", body.message ?? text, { status: response.status }),
        );
      }
      if (!response.ok || response.body === null) throw new Error(`Event stream answered HTTP ${response.status}`);
      delay = minDelay;
      for await (const message of readServerSentEvents(response.body)) {
        if (message.data === "") continue;
        const event = JSON.parse(message.data) as RegistryEvent;
        try {
          await options.onEvent(event);
        } catch (error) {
          throw new FatalError(error);
        }
        if (message.id !== undefined) lastId = message.id;
      }
      if (!signal.aborted) throw new Error("Event stream closed by the server");
    } catch (error) {
      if (error instanceof FatalError) throw error.cause;
      if (signal.aborted) break;
      options.onError?.(error);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

class FatalError extends Error {
  constructor(cause: unknown) {
    super("fatal", { cause });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** A minimal server-sent-events parser: `id`, `event` and `data` fields; comments and `retry` are ignored. */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let id: string | undefined;
  let event = "";
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        // a lone \r at the end of the buffer may be the first half of \r\n: wait for more
        if (buffer[newline] === "\r" && newline === buffer.length - 1) break;
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length > 0 || id !== undefined) {
            yield { ...(id === undefined ? {} : { id }), event: event || "message", data: data.join("\n") };
          }
          id = undefined;
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id") id = value;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
