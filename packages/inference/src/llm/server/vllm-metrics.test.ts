/**
 * vLLM's metric names on `/metrics` after real requests, through a gateway that serves the tiny model
 * itself (`tiny`) and routes another name to a second real LLM server (`routed`): the token counters equal
 * the usage the `openai` client saw, the histograms counted each request, finish reasons (an aborted
 * stream included) are counted, and the exposition passes `promtool check metrics` when promtool is here.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Llama } from "node-llama-cpp";
import { openLlama } from "../serve-llm.js";
import { startLlmTestServer, writeTinyModel, type LlmTestServer, type TinyModel } from "../testing/llm-test-server.js";
import { metricValue, startGateway, type Gateway } from "../upstream/testing/fake-upstreams.js";
import { E2E_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS } from "./vllm-metrics.js";

const USER = [{ role: "user" as const, content: "Tell me a story." }];
const IGNORE_EOS = { ignore_eos: true } as const;
const PROMTOOL = "/usr/bin/promtool";

describe("vLLM metrics on /metrics", () => {
  let model: TinyModel;
  let llama: Llama;
  let upstream: LlmTestServer;
  let gateway: Gateway;
  let client: OpenAI;

  before(async () => {
    model = await writeTinyModel();
    llama = await openLlama({ gpu: false, logLevel: "error" });
    upstream = await startLlmTestServer({ modelPath: model.path, llama, contextSize: 256 });
    gateway = await startGateway(
      {
        model: [`tiny=${model.path}`],
        contextSize: "2048",
        parallel: "2",
        upstream: [`routed=${upstream.baseURL}@model=tiny`],
      },
      { llama },
    );
    client = new OpenAI({ baseURL: gateway.baseURL, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await llama.dispose();
    await model.remove();
  });

  it("counts tokens, latencies and finish reasons of embedded and routed requests as vLLM names them", async () => {
    const seen: Record<
      string,
      { prompt: number; completion: number; requests: number; intervals: number; length: number }
    > = {
      tiny: { prompt: 0, completion: 0, requests: 0, intervals: 0, length: 0 },
      routed: { prompt: 0, completion: 0, requests: 0, intervals: 0, length: 0 },
    };
    /** `timed`: the text arrived token by token (not as one body from an upstream), so decode intervals count. */
    const record = (name: string, usage: OpenAI.CompletionUsage, choices: number, timed = true) => {
      const s = seen[name]!;
      s.prompt += usage.prompt_tokens;
      s.completion += usage.completion_tokens;
      s.requests++;
      if (timed) s.intervals += Math.max(0, usage.completion_tokens - 1);
      s.length += choices;
    };
    for (const name of ["tiny", "routed"]) {
      const res = await client.chat.completions.create({ model: name, messages: USER, max_tokens: 6, ...IGNORE_EOS });
      record(name, res.usage!, 1, name === "tiny");
      const stream = await client.chat.completions.create({
        model: name,
        messages: USER,
        max_tokens: 9,
        stream: true,
        stream_options: { include_usage: true },
        ...IGNORE_EOS,
      });
      for await (const chunk of stream) if (chunk.usage) record(name, chunk.usage, 1);
    }
    const text = await client.completions.create({ model: "tiny", prompt: "Once", max_tokens: 4, n: 2, ...IGNORE_EOS });
    record("tiny", text.usage!, 2);
    // n = 2 counts two finished choices but one request, whose decode intervals are over both choices' tokens
    const embedded = await client.embeddings.create({ model: "tiny", input: "hello there" });

    const metrics = await gateway.metrics();
    for (const name of ["tiny", "routed"]) {
      const s = seen[name]!;
      const labels = { model_name: name };
      const prompt = s.prompt + (name === "tiny" ? embedded.usage.prompt_tokens : 0);
      assert.equal(metricValue(metrics, "vllm:prompt_tokens_total", labels), prompt, `${name} prompt tokens`);
      assert.equal(
        metricValue(metrics, "vllm:generation_tokens_total", labels),
        s.completion,
        `${name} generation tokens`,
      );
      assert.equal(
        metricValue(metrics, "vllm:request_success_total", { model_name: name, finished_reason: "length" }),
        s.length,
      );
      assert.equal(metricValue(metrics, "vllm:time_to_first_token_seconds_count", labels), s.requests);
      assert.equal(metricValue(metrics, "vllm:time_per_output_token_seconds_count", labels), s.intervals);
      const e2e = s.requests + (name === "tiny" ? 1 : 0);
      assert.equal(metricValue(metrics, "vllm:e2e_request_latency_seconds_count", labels), e2e);
      assert.equal(metricValue(metrics, "vllm:e2e_request_latency_seconds_bucket", { ...labels, le: "+Inf" }), e2e);
      assert.ok((metricValue(metrics, "vllm:e2e_request_latency_seconds_sum", labels) ?? 0) > 0);
      assert.equal(metricValue(metrics, "vllm:num_requests_running", labels), 0);
      assert.equal(metricValue(metrics, "vllm:num_requests_waiting", labels), 0);
    }
    for (const [name, type] of [
      ["vllm:time_to_first_token_seconds", "histogram"],
      ["vllm:time_per_output_token_seconds", "histogram"],
      ["vllm:e2e_request_latency_seconds", "histogram"],
      ["vllm:prompt_tokens_total", "counter"],
      ["vllm:generation_tokens_total", "counter"],
      ["vllm:request_success_total", "counter"],
      ["vllm:num_requests_running", "gauge"],
      ["vllm:num_requests_waiting", "gauge"],
    ]) {
      assert.match(metrics, new RegExp(`^# TYPE ${name} ${type}$`, "m"), name);
    }
    // vLLM's bucket boundaries, so dashboards' histogram_quantile reads the same buckets
    for (const [name, buckets] of [
      ["vllm:time_to_first_token_seconds", TTFT_BUCKETS],
      ["vllm:time_per_output_token_seconds", TPOT_BUCKETS],
      ["vllm:e2e_request_latency_seconds", E2E_BUCKETS],
    ] as const) {
      const les = [
        ...metrics.matchAll(
          new RegExp(
            `^${name}_bucket\\{[^}]*le="([^"]+)",?[^}]*model_name="tiny"|^${name}_bucket\\{model_name="tiny",le="([^"]+)"`,
            "gm",
          ),
        ),
      ].map((m) => m[1] ?? m[2]);
      assert.deepEqual(les, [...buckets.map(String), "+Inf"], name);
    }
  });

  it("counts a stream the client abandons as finished_reason abort", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 1900,
      stream: true,
      ...IGNORE_EOS,
    });
    let chunks = 0;
    // leaving the loop aborts the HTTP request
    for await (const _chunk of stream) if (++chunks === 3) break;
    assert.equal(chunks, 3);
    // one scrape at a time, each awaited: none may still be in flight when the test (and its server) ends
    let aborted: number | undefined;
    const deadline = Date.now() + 5000;
    while (aborted !== 1 && Date.now() < deadline) {
      const text = await gateway.metrics();
      aborted = metricValue(text, "vllm:request_success_total", { model_name: "tiny", finished_reason: "abort" });
      if (aborted !== 1) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(aborted, 1, "the abandoned stream is counted with finished_reason abort");
  });

  it("passes promtool check metrics", { skip: !existsSync(PROMTOOL) && "promtool is not installed" }, async () => {
    const text = await gateway.metrics();
    const result = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
    // promtool's linter flags every name with a colon (Prometheus reserves them for recording rules); vLLM's
    // names have one, and its own /metrics draws the same lint. Anything else — a parse error, a bad
    // type, a histogram without +Inf — fails.
    const problems = `${result.stdout}${result.stderr}`
      .split("\n")
      .filter((line) => line.trim() !== "" && !/^vllm:\w+ metric names should not contain ':'$/.test(line.trim()));
    assert.deepEqual(problems, []);
    assert.ok(result.status === 0 || result.status === 3, `promtool exited ${result.status}`);
  });
});
