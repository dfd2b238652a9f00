/**
 * Upstream routing end to end, against real second servers started here: a real LLM server on the tiny
 * model (the same wiring as `slipway llm serve`) as a healthy upstream, and node:http servers that
 * answer 503 with Retry-After then succeed, always fail, or hang. The client is the `openai` package;
 * the gateway is `serveLlm` with routes, as `slipway llm serve --upstream …` builds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { APIError } from "openai";
import {
  eventually,
  startLlmTestServer,
  writeTinyModel,
  type LlmTestServer,
  type TinyModel,
} from "../testing/llm-test-server.js";
import {
  answerChat,
  answerError,
  metricValue,
  startFakeUpstream,
  startGateway,
  type FakeUpstream,
  type Gateway,
} from "./testing/fake-upstreams.js";

const USER = [{ role: "user" as const, content: "Tell me a story." }];

function clientOf(gateway: Gateway): OpenAI {
  return new OpenAI({ baseURL: gateway.baseURL, apiKey: "unused", maxRetries: 0 });
}

/** A routing file's content (as `--routing routing.yaml` gives it, parsed). */
function routing(models: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  return {
    source: "routing.yaml",
    document: { defaults: { health: { interval: "0s" }, retries: { backoff: "10ms" }, ...defaults }, models },
  };
}

async function rejectsWith(
  promise: Promise<unknown>,
  expected: { status: number; code?: string; message?: RegExp },
): Promise<APIError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof APIError, `expected an API error, got ${String(caught)}`);
  assert.equal(caught.status, expected.status, caught.message);
  if (expected.code) assert.equal(caught.code, expected.code, caught.message);
  if (expected.message) assert.match(caught.message, expected.message);
  return caught;
}

describe("upstream routing", () => {
  let model: TinyModel;
  let tiny: LlmTestServer;
  const open: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(x: T): T => {
    open.push(x);
    return x;
  };

  before(async () => {
    model = await writeTinyModel();
    tiny = await startLlmTestServer({ modelPath: model.path, parallel: 2, contextSize: 512 });
  });
  after(async () => {
    for (const x of open.reverse()) await x.close();
    await tiny.close();
    await model.remove();
  });

  it("proxies a real upstream: chat whole and streamed, completions, embeddings, models, its 4xx", async () => {
    const gateway = track(await startGateway({ upstream: [`big=${tiny.baseURL}@model=tiny`] }));
    const client = clientOf(gateway);
    const direct = new OpenAI({ baseURL: tiny.baseURL, apiKey: "unused", maxRetries: 0 });

    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["big"],
    );

    const request = { model: "big", messages: USER, max_tokens: 12, seed: 42, temperature: 0.9, ignore_eos: true };
    const whole = await client.chat.completions.create(request as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(whole.model, "big");
    assert.equal(whole.choices[0]!.finish_reason, "length");
    assert.equal(whole.usage!.completion_tokens, 12);
    const mine = await direct.chat.completions.create({
      ...request,
      model: "tiny",
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(whole.choices[0]!.message.content, mine.choices[0]!.message.content);
    assert.equal(whole.usage!.prompt_tokens, mine.usage!.prompt_tokens);

    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), mine.choices[0]!.message.content);
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, "length");
    assert.deepEqual(chunks.at(-1)!.usage, mine.usage);

    const completion = await client.completions.create({ model: "big", prompt: "Once", max_tokens: 3, n: 2 });
    assert.equal(completion.choices.length, 2);
    assert.equal(completion.model, "big");

    const viaGateway = await client.embeddings.create({ model: "big", input: ["one", "two"] });
    const viaDirect = await direct.embeddings.create({ model: "tiny", input: ["one", "two"] });
    assert.equal(viaGateway.data.length, 2);
    for (const i of [0, 1]) {
      const a = viaGateway.data[i]!.embedding;
      const b = viaDirect.data[i]!.embedding;
      assert.equal(a.length, 64);
      assert.ok(a.every((x, j) => Math.abs(x - b[j]!) < 1e-6));
    }

    // the upstream's own refusal comes back as it was worded, unretried
    await rejectsWith(
      client.chat.completions.create({ model: "big", messages: [{ role: "user", content: "dragon ".repeat(600) }] }),
      { status: 400, code: "context_length_exceeded", message: /maximum context length is 512 tokens/ },
    );
  });

  it("learns the upstream's model name from its /models", async () => {
    const gateway = track(await startGateway({ upstream: [`auto=${tiny.baseURL}`] }));
    const [upstream] = gateway.serving.upstreams;
    await upstream!.probeAll();
    assert.equal(upstream!.targetStates()[0]!.model, "tiny");
    const res = await clientOf(gateway).chat.completions.create({ model: "auto", messages: USER, max_tokens: 2 });
    assert.equal(res.model, "auto");
  });

  it("a client that leaves a stream stops the real upstream's generation at once", async () => {
    const gateway = track(await startGateway({ upstream: [`big=${tiny.baseURL}@model=tiny`] }));
    const abort = new AbortController();
    const res = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "big", messages: USER, max_tokens: 400, ignore_eos: true, stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    assert.equal(tiny.provider.slots().free, 1);
    abort.abort();
    await eventually(() => tiny.provider.slots().free === 2, 2000);
    await eventually(() => gateway.serving.upstreams[0]!.load().running === 0, 2000);
  });

  it("retries a 503 with Retry-After after the time asked, streamed or not, then succeeds", async () => {
    const flaky = track(
      await startFakeUpstream((_req, res, body, count) => {
        if (count % 2 === 1) answerError(res, 503, "warming up", { "retry-after": "1" });
        else answerChat(res, body, "hello there");
      }),
    );
    const gateway = track(await startGateway({}, { routing: routing({ flaky: { targets: [flaky.baseURL] } }) }));
    const client = clientOf(gateway);
    const res = await client.chat.completions.create({ model: "flaky", messages: USER });
    assert.equal(res.choices[0]!.message.content, "hello there");
    assert.equal(flaky.requests.length, 2);
    const waited = flaky.requests[1]!.at - flaky.requests[0]!.at;
    assert.ok(waited >= 950 && waited < 2500, `waited ${waited} ms`);

    const stream = await client.chat.completions.create({ model: "flaky", messages: USER, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "hello there");
    assert.equal(flaky.requests.length, 4);

    const metrics = await gateway.metrics();
    const labels = { model: "flaky", target: flaky.baseURL };
    assert.equal(metricValue(metrics, "slipway_llm_upstream_retries_total", labels), 2);
    assert.equal(metricValue(metrics, "slipway_llm_upstream_errors_total", { ...labels, kind: "server_error" }), 2);
    assert.equal(metricValue(metrics, "slipway_llm_upstream_requests_total", { ...labels, endpoint: "chat" }), 4);
    assert.equal(metricValue(metrics, "slipway_llm_upstream_healthy", labels), 1);
  });

  it("a Retry-After past the retry budget is not waited for: 503 at once, with the upstream's Retry-After", async () => {
    const limited = track(
      await startFakeUpstream((_req, res) => {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "60" });
        res.end(JSON.stringify({ error: { message: "Rate limit reached for requests", type: "rate_limit_error" } }));
      }),
    );
    const gateway = track(
      await startGateway(
        {},
        { routing: routing({ limited: { targets: [limited.baseURL], retries: { budget: "2s" } } }) },
      ),
    );
    const started = performance.now();
    const res = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "limited", messages: USER }),
    });
    assert.ok(performance.now() - started < 1000);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "60");
    const body = (await res.json()) as { error: { message: string; code: string } };
    assert.equal(body.error.code, "upstream_overloaded");
    assert.match(
      body.error.message,
      /^Model 'limited': its upstream is rate limiting\. Tried 1 attempt in [\d.]+ s \(the upstream asked to wait 60\.0 s, past the retry budget\): http:\/\/127\.0\.0\.1:\d+\/v1: 429 Too Many Requests: Rate limit reached for requests\.$/,
    );
    assert.equal(limited.requests.length, 1);
  });

  it("sends the API key named by @key-env (or --upstream-key-env), to requests and health checks", async () => {
    const keyed = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "ok")));
    const gateway = track(
      await startGateway(
        { upstream: [`keyed=${keyed.baseURL}@key-env=MY_KEY`, `other=${keyed.baseURL}`], upstreamKeyEnv: "SHARED_KEY" },
        { env: { MY_KEY: "sk-mine", SHARED_KEY: "sk-shared" } },
      ),
    );
    const client = clientOf(gateway);
    await client.chat.completions.create({ model: "keyed", messages: USER });
    await client.chat.completions.create({ model: "other", messages: USER });
    assert.deepEqual(
      keyed.requests.map((r) => r.authorization),
      ["Bearer sk-mine", "Bearer sk-shared"],
    );
  });

  it("falls back to another model when every target of one fails; without one, a clear 502", async () => {
    const broken = track(await startFakeUpstream((_req, res) => answerError(res, 500, "CUDA error: out of memory")));
    const gateway = track(
      await startGateway(
        { upstream: [`small=${tiny.baseURL}@model=tiny`] },
        {
          routing: routing({
            big: { targets: [broken.baseURL], retries: { attempts: 2 }, fallback: ["small"] },
            solo: { targets: [broken.baseURL], retries: { attempts: 2 } },
          }),
        },
      ),
    );
    const client = clientOf(gateway);
    const res = await client.chat.completions.create({
      model: "big",
      messages: USER,
      max_tokens: 4,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(res.model, "big");
    assert.equal(res.usage!.completion_tokens, 4);
    assert.equal(broken.requests.length, 2);

    const error = await rejectsWith(client.chat.completions.create({ model: "solo", messages: USER }), {
      status: 502,
      code: "upstream_error",
    });
    assert.match(
      error.message,
      /Model 'solo': its upstream failed\. Tried 2 attempts in [\d.]+ s \(2 attempts, the most allowed\)/,
    );
    assert.ok(
      error.message.includes(`${broken.baseURL}: 500 Internal Server Error: CUDA error: out of memory`),
      error.message,
    );

    const metrics = await gateway.metrics();
    assert.equal(metricValue(metrics, "slipway_llm_fallbacks_total", { model: "big", fallback: "small" }), 1);
    assert.equal(metricValue(metrics, "slipway_llm_route_failures_total", { model: "solo", kind: "server_error" }), 1);
  });

  it("times out a hanging upstream and closes its socket; a silent stream ends with an error event", async () => {
    const hanging = track(await startFakeUpstream(() => {}));
    const stalls = track(
      await startFakeUpstream((_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = { id: "x", object: "chat.completion.chunk", created: 1, model: "m" };
        res.write(`data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: "Hi" } }] })}\n\n`);
      }),
    );
    const gateway = track(
      await startGateway(
        {},
        {
          routing: routing({
            slow: { targets: [hanging.baseURL], timeout: "300ms", retries: { attempts: 1 } },
            stalls: { targets: [stalls.baseURL], timeout: "5s", idleTimeout: "300ms" },
          }),
        },
      ),
    );
    const started = performance.now();
    await rejectsWith(clientOf(gateway).chat.completions.create({ model: "slow", messages: USER }), {
      status: 504,
      code: "upstream_timeout",
      message: /Model 'slow': its upstream did not answer in time\. .*no answer within 300 ms/,
    });
    assert.ok(performance.now() - started < 2000);
    await eventually(() => hanging.abandoned === 1, 1000);

    const res = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "stalls", messages: USER, stream: true }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /"delta":\{"content":"Hi"\}/);
    assert.match(
      text,
      /data: \{"error":\{"message":"Model 'stalls': the upstream [^"]+ broke off the stream: the stream went silent for 300 ms\.","type":"server_error","param":null,"code":"upstream_stream_error"\}\}\n\ndata: \[DONE\]\n\n$/,
    );
    await eventually(() => stalls.abandoned === 1, 1000);
  });

  it("a client that disconnects aborts the upstream request at once, before and after the first token", async () => {
    const hanging = track(await startFakeUpstream(() => {}));
    const trickle = track(
      await startFakeUpstream((_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Hi" } }] })}\n\n`);
      }),
    );
    const gateway = track(
      await startGateway(
        {},
        { routing: routing({ hang: { targets: [hanging.baseURL] }, trickle: { targets: [trickle.baseURL] } }) },
      ),
    );
    for (const [name, upstream, stream] of [
      ["hang", hanging, false],
      ["trickle", trickle, true],
    ] as const) {
      const abort = new AbortController();
      const pending = fetch(`${gateway.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: name, messages: USER, stream }),
        signal: abort.signal,
      })
        .then(async (res) => {
          await res.body!.getReader().read();
          return "first chunk";
        })
        .catch((error: unknown) => error);
      await eventually(() => upstream.requests.length === 1, 2000);
      if (stream) assert.equal(await pending, "first chunk");
      const closed = upstream.nextAbandoned();
      const left = performance.now();
      abort.abort();
      await closed;
      assert.ok(performance.now() - left < 500, `${name}: upstream socket closed after ${performance.now() - left} ms`);
      await pending;
    }
    const upstreams = gateway.serving.upstreams;
    await eventually(() => upstreams.every((u) => u.load().running === 0), 1000);
    // a client leaving is not the target's failure
    const metrics = await gateway.metrics();
    assert.doesNotMatch(metrics, /^slipway_llm_upstream_errors_total\{/m);
    assert.equal(metricValue(metrics, "slipway_llm_upstream_healthy", { model: "hang", target: hanging.baseURL }), 1);
  });

  it("balances by weight: over 200 requests each target's share is its weight's, within one", async () => {
    const a = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "a")));
    const b = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "b")));
    const gateway = track(await startGateway({ upstream: [`pool=${a.baseURL}@weight=3`, `pool=${b.baseURL}`] }));
    const client = clientOf(gateway);
    const total = 200;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          await client.chat.completions.create({ model: "pool", messages: USER });
        }
      }),
    );
    assert.equal(a.requests.length + b.requests.length, total);
    assert.ok(Math.abs(a.requests.length - 150) <= 1, `a got ${a.requests.length}`);
    assert.ok(Math.abs(b.requests.length - 50) <= 1, `b got ${b.requests.length}`);
  });

  it("health checks mark a killed upstream down (503 at once, no attempt) and up again after restart", async () => {
    const upstream = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "ok")));
    const other = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "other")));
    const gateway = track(
      await startGateway(
        {},
        {
          routing: routing({
            pair: {
              targets: [upstream.baseURL, other.baseURL],
              health: { interval: "100ms", timeout: "200ms", unhealthyAfter: 2, healthyAfter: 2 },
            },
            single: {
              targets: [upstream.baseURL],
              health: { interval: "100ms", timeout: "200ms", unhealthyAfter: 2, healthyAfter: 2 },
            },
          }),
        },
      ),
    );
    const client = clientOf(gateway);
    const healthy = async (model: string) =>
      metricValue(await gateway.metrics(), "slipway_llm_upstream_healthy", { model, target: upstream.baseURL });
    assert.equal(
      (await client.chat.completions.create({ model: "single", messages: USER })).choices[0]!.message.content,
      "ok",
    );

    await upstream.close();
    const killed = performance.now();
    for (;;) {
      if ((await healthy("single")) === 0 && (await healthy("pair")) === 0) break;
      assert.ok(performance.now() - killed < 3000, "not marked down in time");
      await new Promise((r) => setTimeout(r, 25));
    }
    const before = upstream.requests.length;
    await rejectsWith(client.chat.completions.create({ model: "single", messages: USER }), {
      status: 503,
      code: "upstream_unavailable",
      message:
        /Model 'single': every upstream target is marked down by health checks \(http:\/\/127\.0\.0\.1:\d+\/v1\); they are checked every 0\.1 s/,
    });
    // the pair routes everything to the target that is still up
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({ model: "pair", messages: USER });
      assert.equal(res.choices[0]!.message.content, "other");
    }
    assert.equal(upstream.requests.length, before);

    await upstream.restart();
    const restarted = performance.now();
    for (;;) {
      if ((await healthy("single")) === 1 && (await healthy("pair")) === 1) break;
      assert.ok(performance.now() - restarted < 3000, "not marked up in time");
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(
      (await client.chat.completions.create({ model: "single", messages: USER })).choices[0]!.message.content,
      "ok",
    );
    const metrics = await gateway.metrics();
    assert.ok(
      metricValue(metrics, "slipway_llm_upstream_health_checks_total", {
        model: "single",
        target: upstream.baseURL,
        result: "failed",
      })! >= 2,
    );
    assert.ok(metricValue(metrics, "slipway_llm_route_failures_total", { model: "single", kind: "unavailable" })! >= 1);
  });

  it("connection errors are retried on the next target and count against its health", async () => {
    const alive = track(await startFakeUpstream((_req, res, body) => answerChat(res, body, "alive")));
    const dead: FakeUpstream = await startFakeUpstream(() => {});
    await dead.close();
    const gateway = track(
      await startGateway({}, { routing: routing({ mixed: { targets: [dead.baseURL, alive.baseURL] } }) }),
    );
    const client = clientOf(gateway);
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({ model: "mixed", messages: USER });
      assert.equal(res.choices[0]!.message.content, "alive");
    }
    const metrics = await gateway.metrics();
    // two connection failures mark the dead one down; after that it gets no attempts
    assert.equal(
      metricValue(metrics, "slipway_llm_upstream_errors_total", {
        model: "mixed",
        target: dead.baseURL,
        kind: "connect",
      }),
      2,
    );
    assert.equal(metricValue(metrics, "slipway_llm_upstream_healthy", { model: "mixed", target: dead.baseURL }), 0);
  });
});
