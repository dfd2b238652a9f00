/**
 * End to end: `slipway llm serve --trace-experiment` records each request as an MLflow trace on a real
 * `slipway server` (SQLite): chat and completions, streamed and not, and one the engine refuses; each trace carries
 * its spans (root, queue, prefill, decode), token counts, the request id and its status. With the tracking server
 * down, requests still succeed and the dropped traces are counted on /metrics; SIGTERM still exits cleanly.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getTrace, searchTraces, TrackingClient } from "@slipway/sdk";
import type { TraceInfoV3, TraceSpan } from "@slipway/protocol";
import { runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";
import { startSlipway, type SlipwayProcess } from "./testing/processes.js";

interface Answered {
  status: number;
  requestId: string;
  text: string;
}

async function post(url: string, path: string, body: unknown): Promise<Answered> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get("x-request-id") ?? "", text: await res.text() };
}

function serveArgs(modelPath: string, trackingUri: string, experiment: string): string[] {
  return [
    "llm",
    "serve",
    "--model",
    `tiny=${modelPath}`,
    "--port",
    "0",
    "--threads",
    "1",
    "--parallel",
    "2",
    "--context-size",
    "256",
    "--gpu",
    "false",
    "--trace-experiment",
    experiment,
    "--tracking-uri",
    trackingUri,
  ];
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Attribute values of MLflow's spans are JSON text. */
function attr(span: TraceSpan, name: string): unknown {
  const value = (span.attributes as Record<string, string> | undefined)?.[name];
  return value === undefined ? undefined : (JSON.parse(value) as unknown);
}

const NO_CREDENTIALS = { MLFLOW_TRACKING_TOKEN: "", SLIPWAY_TRACKING_TOKEN: "" };

describe("slipway llm serve --trace-experiment", () => {
  let dir: string;
  let modelPath: string;
  let tracking: ServerProcess;
  const llms: SlipwayProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-llm-traces-"));
    modelPath = join(dir, "tiny.gguf");
    const made = await runSlipway(["llm", "make-test-model", "--out", modelPath, "--shape", "tiny", "--seed", "1"]);
    assert.equal(made.code, 0, made.stderr);
    tracking = await startServerProcess("slipway-llm-traces-server-");
  });
  after(async () => {
    for (const llm of llms) await llm.stop("SIGKILL");
    await tracking?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("records chat and completion requests, streamed or not, and a refused one, as traces with spans", async () => {
    const llm = startSlipway(serveArgs(modelPath, tracking.url, "llm-traces"), NO_CREDENTIALS);
    llms.push(llm);
    const url = (await llm.waitFor(/listening on (http:\/\/\S+)/, 60_000))[1]!;
    assert.match(llm.output(), /traces:\s+experiment llm-traces at http/);

    const chat = await post(url, "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "Hello there" }],
      max_tokens: 4,
      seed: 1,
    });
    assert.equal(chat.status, 200, chat.text);
    const chatUsage = (JSON.parse(chat.text) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const streamed = await post(url, "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "Stream please" }],
      max_tokens: 3,
      stream: true,
    });
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /data: \[DONE\]/);
    const completion = await post(url, "/v1/completions", { model: "tiny", prompt: "Once upon", max_tokens: 3 });
    assert.equal(completion.status, 200, completion.text);
    // the engine refuses it (prompt and completion exceed the context): a 400, and an ERROR trace
    const refused = await post(url, "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "too much" }],
      max_tokens: 100_000,
    });
    assert.equal(refused.status, 400, refused.text);

    const client = new TrackingClient({ trackingUri: tracking.url, credentialsEnv: false });
    let traces: TraceInfoV3[] = [];
    let experimentId = "";
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        experimentId = (await client.getExperimentByName({ experiment_name: "llm-traces" })).experiment.experiment_id;
        traces = (await searchTraces(client, { experimentIds: [experimentId] })).traces;
      } catch {
        // the experiment is created with the first trace
      }
      if (traces.length >= 4) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(traces.length, 4, `traces: ${JSON.stringify(traces)}`);
    const byRequest = new Map(traces.map((t) => [t.client_request_id, t]));

    const chatTrace = byRequest.get(chat.requestId);
    assert.ok(chatTrace, `no trace for ${chat.requestId}`);
    assert.equal(chatTrace.state, "OK");
    assert.equal(chatTrace.tags?.["slipway.llm.model"], "tiny");
    assert.equal(chatTrace.tags?.["slipway.llm.engine"], "llama.cpp");
    assert.equal(chatTrace.trace_metadata?.["slipway.llm.prompt_tokens"], String(chatUsage.prompt_tokens));
    assert.equal(chatTrace.trace_metadata?.["slipway.llm.completion_tokens"], String(chatUsage.completion_tokens));
    assert.deepEqual(JSON.parse(chatTrace.trace_metadata?.["mlflow.trace.tokenUsage"] ?? "{}"), {
      input_tokens: chatUsage.prompt_tokens,
      output_tokens: chatUsage.completion_tokens,
      total_tokens: chatUsage.prompt_tokens + chatUsage.completion_tokens,
    });
    assert.match(chatTrace.request_preview ?? "", /Hello there/);
    assert.match(chatTrace.execution_duration ?? "", /^\d+(\.\d+)?s$/);
    const full = await getTrace(client, chatTrace.trace_id);
    const spans = full.data?.spans ?? [];
    const root = spans.find((s) => s.parent_span_id === undefined)!;
    assert.equal(root.name, "chat.completions");
    assert.equal(attr(root, "mlflow.spanType"), "CHAT_MODEL");
    assert.equal(attr(root, "slipway.model"), "tiny");
    assert.equal(attr(root, "slipway.stream"), false);
    assert.equal(attr(root, "slipway.request_id"), chat.requestId);
    assert.equal(attr(root, "slipway.prompt_tokens"), chatUsage.prompt_tokens);
    assert.equal(attr(root, "slipway.completion_tokens"), chatUsage.completion_tokens);
    assert.match(String(attr(root, "mlflow.spanInputs")), /Hello there/);
    assert.equal(attr(root, "slipway.api_key"), undefined, "no key name without auth");
    const children = spans.filter((s) => s.parent_span_id === root.span_id).map((s) => s.name);
    assert.deepEqual(children, ["queue", "prefill", "decode"]);
    for (const span of spans) {
      assert.ok(
        Number(span.end_time_unix_nano) >= Number(span.start_time_unix_nano),
        `${String(span.name)} ends after it starts`,
      );
    }

    const streamTrace = byRequest.get(streamed.requestId);
    assert.ok(streamTrace);
    assert.equal(streamTrace.tags?.["slipway.llm.stream"], "true");
    assert.equal(streamTrace.state, "OK");

    const completionTrace = byRequest.get(completion.requestId);
    assert.ok(completionTrace);
    const completionRoot = (await getTrace(client, completionTrace.trace_id)).data?.spans.find(
      (s) => s.parent_span_id === undefined,
    );
    assert.equal(completionRoot?.name, "completions");
    assert.equal(attr(completionRoot, "mlflow.spanType"), "LLM");

    const refusedTrace = byRequest.get(refused.requestId);
    assert.ok(refusedTrace, `no trace for the refused request ${refused.requestId}`);
    assert.equal(refusedTrace.state, "ERROR");
    const refusedRoot = (await getTrace(client, refusedTrace.trace_id)).data?.spans.find(
      (s) => s.parent_span_id === undefined,
    );
    assert.equal((refusedRoot?.status as { code?: string } | undefined)?.code, "STATUS_CODE_ERROR");

    // filters work on what the LLM server wrote
    const errors = await searchTraces(client, { experimentIds: [experimentId], filter: "trace.status = 'ERROR'" });
    assert.deepEqual(
      errors.traces.map((t) => t.client_request_id),
      [refused.requestId],
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /slipway_llm_traces_total\{outcome="sent"\} 4/);
    await llm.stop("SIGTERM");
    assert.equal((await llm.exited).code, 0, llm.output());
  });

  it("with the tracking server down, requests succeed and the dropped traces are counted", async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const llm = startSlipway(serveArgs(modelPath, down, "nowhere"), NO_CREDENTIALS);
    llms.push(llm);
    const url = (await llm.waitFor(/listening on (http:\/\/\S+)/, 60_000))[1]!;
    for (let i = 0; i < 2; i++) {
      const answer = await post(url, "/v1/chat/completions", {
        model: "tiny",
        messages: [{ role: "user", content: `Hi ${i}` }],
        max_tokens: 2,
      });
      assert.equal(answer.status, 200, answer.text);
    }
    let metrics = "";
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${url}/metrics`)).text();
      if (/slipway_llm_traces_total\{outcome="dropped_send_failed"\} 2/.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(metrics, /slipway_llm_traces_total\{outcome="dropped_send_failed"\} 2/);
    assert.match(metrics, /slipway_llm_traces_total\{outcome="sent"\} 0/);
    assert.match(llm.output(), /traces: sending a trace to .* failed/);
    await llm.stop("SIGTERM");
    assert.equal((await llm.exited).code, 0, llm.output());
  });
});
