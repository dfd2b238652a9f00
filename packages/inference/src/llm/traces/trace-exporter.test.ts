/**
 * The trace exporter against a real HTTP server that plays the tracking server: it waits as `Retry-After` says,
 * gives up on a rejection (4xx) at once, drops and counts what does not fit its buffer, resolves the experiment by
 * name once, and flushes at close. The LLM edge's recorder builds MLflow's trace shape.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { TrackingClient } from "@slipway/sdk";
import type { Trace } from "@slipway/protocol";
import { TraceExporter } from "./trace-exporter.js";
import { boundedJson, LlmTracer } from "./llm-trace.js";

interface Seen {
  method: string;
  url: string;
  at: number;
  body: unknown;
}

function trace(id: string): Trace {
  return {
    trace_info: {
      trace_id: id,
      trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: "0" } },
      request_time: new Date().toISOString(),
      state: "OK",
    },
    data: { spans: [] },
  };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const chunk of request) parts.push(chunk as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

describe("trace exporter", () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  /** What the next POSTs to /api/3.0/mlflow/traces answer, in order; then 200. */
  let script: { status: number; headers?: Record<string, string> }[] = [];
  before(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((body) => {
        seen.push({ method: request.method!, url: request.url!, at: Date.now(), body });
        response.setHeader("content-type", "application/json");
        if (request.url?.startsWith("/api/2.0/mlflow/experiments/get-by-name")) {
          response.end(JSON.stringify({ experiment: { experiment_id: "7", name: "named" } }));
          return;
        }
        const next = script.shift() ?? { status: 200 };
        response.writeHead(next.status, next.headers ?? {});
        response.end(
          next.status === 200
            ? JSON.stringify({ trace: (body as { trace: unknown }).trace })
            : JSON.stringify({ error_code: next.status === 400 ? "INVALID_PARAMETER_VALUE" : "X", message: "no" }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const client = () =>
    new TrackingClient({
      trackingUri: url,
      credentialsEnv: false,
      retry: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 5000 },
    });

  it("honours Retry-After, counts rejections, resolves a named experiment once, flushes at close", async () => {
    seen.length = 0;
    script = [{ status: 429, headers: { "retry-after": "1" } }, { status: 200 }, { status: 400 }];
    const metrics = new Registry();
    const reports: string[] = [];
    const exporter = new TraceExporter({
      client: client(),
      experiment: "named",
      concurrency: 1,
      metrics,
      onReport: (line) => reports.push(line),
    });
    exporter.offer(trace("tr-1"));
    exporter.offer(trace("tr-2"));
    await exporter.close(10_000);
    const posts = seen.filter((s) => s.method === "POST");
    assert.equal(posts.length, 3, JSON.stringify(seen.map((s) => s.url)));
    assert.ok(posts[1]!.at - posts[0]!.at >= 900, `the retry waited ${posts[1]!.at - posts[0]!.at} ms`);
    assert.equal(seen.filter((s) => s.url.includes("get-by-name")).length, 1);
    const sent = posts[1]!.body as { trace: Trace };
    assert.equal(sent.trace.trace_info.trace_location.mlflow_experiment?.experiment_id, "7");
    assert.deepEqual(exporter.stats(), {
      sent: 1,
      dropped_buffer_full: 0,
      dropped_send_failed: 0,
      dropped_rejected: 1,
      buffered: 0,
    });
    assert.match(await metrics.metrics(), /slipway_llm_traces_total\{outcome="dropped_rejected"\} 1/);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /rejected a trace: 400 INVALID_PARAMETER_VALUE/);
    exporter.offer(trace("tr-late"));
    assert.equal(exporter.stats().dropped_send_failed, 1, "a trace offered after close is counted");
  });

  it("drops and counts what does not fit its buffer, never throwing", async () => {
    const exporter = new TraceExporter({ client: client(), experiment: "3", maxBuffer: 2, onReport: () => {} });
    for (let i = 0; i < 5; i++) exporter.offer(trace(`tr-b${i}`));
    assert.equal(exporter.stats().dropped_buffer_full, 3);
    await exporter.close();
    assert.equal(exporter.stats().sent, 2);
  });

  it("the recorder builds a trace with a root span and its queue, prefill and decode children", async () => {
    seen.length = 0;
    script = [];
    const exporter = new TraceExporter({ client: client(), experiment: "5", onReport: () => {} });
    const tracer = new LlmTracer(exporter);
    const recorder = tracer.begin(
      { requestId: "req_1", model: "tiny", caller: "team-a", started: performance.now() },
      { kind: "chat", input: [{ role: "user", content: "x".repeat(50_000) }], streaming: true, engine: "llama.cpp" },
    )!;
    recorder.acceptedNow();
    recorder.text(0, "Hel");
    recorder.text(0, "lo");
    recorder.finish("stop");
    recorder.end({ promptTokens: 7, completionTokens: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    await tracer.close();
    const body = seen.find((s) => s.method === "POST")!.body as { trace: Trace };
    const info = body.trace.trace_info;
    assert.equal(info.client_request_id, "req_1");
    assert.equal(info.state, "OK");
    assert.equal(info.tags?.["slipway.llm.api_key"], "team-a");
    assert.equal(info.trace_metadata?.["slipway.llm.completion_tokens"], "2");
    assert.equal(info.response_preview, "Hello");
    assert.ok((info.request_preview ?? "").length <= 1000);
    const spans = body.trace.data!.spans;
    assert.deepEqual(
      spans.map((s) => s.name),
      ["chat.completions", "queue", "prefill", "decode"],
    );
    const attributes = spans[0]!.attributes as Record<string, string>;
    assert.equal(JSON.parse(attributes["mlflow.spanType"]!), "CHAT_MODEL");
    assert.equal(JSON.parse(attributes["slipway.finish_reason"]!), "stop");
    assert.ok((JSON.parse(attributes["mlflow.spanInputs"]!) as string).length <= 16_000, "inputs are cut");
  });

  it("sampling: a rate of 0 records nothing", () => {
    const exporter = new TraceExporter({ client: client(), experiment: "1", onReport: () => {} });
    const tracer = new LlmTracer(exporter, 0);
    assert.equal(
      tracer.begin(
        { requestId: "r", model: "m", started: 0 },
        { kind: "completion", input: "p", streaming: false, engine: "e" },
      ),
      undefined,
    );
    assert.throws(() => new LlmTracer(exporter, 1.5), /sampleRate/);
    assert.equal(boundedJson(["a".repeat(10), "b"], 8).length, 8);
  });
});
