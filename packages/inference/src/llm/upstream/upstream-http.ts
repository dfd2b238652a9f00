/**
 * HTTP to one upstream, on `node:http` with a keep-alive agent per target (a proxy pays a new TCP
 * handshake per request otherwise). The request's `AbortSignal` destroys the socket at once: the
 * upstream sees its connection close, which is how it learns that the client left or a timeout fired.
 */
import http, { type Agent, type IncomingMessage } from "node:http";
import https from "node:https";

export interface UpstreamRequest {
  url: URL;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  agent: Agent;
  signal: AbortSignal;
}

export function newAgent(url: URL): Agent {
  const options = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: Infinity,
    maxFreeSockets: 64,
    scheduling: "lifo" as const,
  };
  return url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

/** Sends the request; resolves with the response once its status and headers arrived. */
export function sendUpstream(request: UpstreamRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (request.signal.aborted) {
      reject(abortReason(request.signal));
      return;
    }
    const send = request.url.protocol === "https:" ? https.request : http.request;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(request.body));
    }
    const req = send(request.url, { method: request.method, headers, agent: request.agent });
    const onAbort = () => req.destroy(abortReason(request.signal));
    request.signal.addEventListener("abort", onAbort, { once: true });
    req.once("response", (res) => {
      // from here on, an abort ends the body's iteration with the abort's reason (and closes the socket)
      request.signal.removeEventListener("abort", onAbort);
      const onAbortBody = () => {
        res.destroy(abortReason(request.signal));
        req.destroy();
      };
      request.signal.addEventListener("abort", onAbortBody, { once: true });
      res.once("close", () => request.signal.removeEventListener("abort", onAbortBody));
      resolve(res);
    });
    req.once("error", (error) => {
      request.signal.removeEventListener("abort", onAbort);
      reject(request.signal.aborted ? abortReason(request.signal) : error);
    });
    req.end(request.body);
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("aborted");
}

/** The body as text, at most `limit` bytes (beyond it: an error). */
export async function readBody(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new Error(`the answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds, or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
