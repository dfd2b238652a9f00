/**
 * API keys on the LLM server, over real HTTP with the `openai` client against the tiny random-weight
 * model: 401s in OpenAI's format, per-key request and token limits (429 with Retry-After and the
 * x-ratelimit headers, recovery once the window has passed), model-restricted keys, and usage accounting
 * that equals what the client saw. The rate window is shortened to a few seconds for the test.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { APIError } from "openai";
import type { Llama } from "node-llama-cpp";
import { generateApiKey, hashApiKey, readApiKeysFile } from "../../auth/api-keys.js";
import { ControlPlaneAuth } from "../../auth/control-plane-auth.js";
import { DataPlaneAuth } from "../../auth/data-plane-auth.js";
import { startWhoamiDouble, type WhoamiDouble } from "../../auth/testing/whoami-server.js";
import { loadLlmServeConfig } from "../llm-serve-config.js";
import { openLlama, serveLlm, type LlmServing } from "../serve-llm.js";
import { writeTinyModel, type TinyModel } from "../testing/llm-test-server.js";
import { metricValue } from "../upstream/testing/fake-upstreams.js";

const USER = [{ role: "user" as const, content: "Count to ten." }];
const IGNORE_EOS = { ignore_eos: true } as const;
const WINDOW_MS = 2_000;

const KEYS = {
  admin: generateApiKey(),
  rpm: generateApiKey(),
  tpm: generateApiKey(),
  restricted: generateApiKey(),
  counted: generateApiKey(),
};

/** A response header of an API error (the client types its headers loosely). */
function header(error: unknown, name: string): string | null {
  const headers: unknown = error instanceof APIError ? error.headers : undefined;
  return headers instanceof Headers ? headers.get(name) : null;
}

describe("LLM server API keys, rate limits and usage", () => {
  let dir: string;
  let model: TinyModel;
  let llama: Llama;
  let serving: LlmServing;
  let baseURL: string;
  let whoami: WhoamiDouble;
  const client = (key: string) => new OpenAI({ baseURL, apiKey: key, maxRetries: 0 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-llm-keys-"));
    model = await writeTinyModel();
    const file = join(dir, "keys.json");
    await writeFile(
      file,
      JSON.stringify({
        keys: [
          { name: "admin", sha256: hashApiKey(KEYS.admin), admin: true },
          { name: "rpm-limited", sha256: hashApiKey(KEYS.rpm), rpm: 2 },
          { name: "tpm-limited", sha256: hashApiKey(KEYS.tpm), tpm: 30 },
          { name: "second-only", sha256: hashApiKey(KEYS.restricted), models: ["second"] },
          { name: "counted", sha256: hashApiKey(KEYS.counted) },
        ],
      }),
    );
    llama = await openLlama({ gpu: false, logLevel: "error" });
    whoami = await startWhoamiDouble({ "Bearer slw_rita_token": { id: 7, username: "rita" } });
    const config = loadLlmServeConfig({
      model: [`tiny=${model.path}`, `second=${model.path}`],
      port: "0",
      threads: "1",
      parallel: "2",
      contextSize: "256",
      apiKeys: file,
    });
    assert.equal(config.auth?.apiKeysFile, file);
    serving = await serveLlm({
      config,
      llama,
      auth: new DataPlaneAuth({
        keys: await readApiKeysFile(file),
        controlPlane: new ControlPlaneAuth({ trackingUri: whoami.url }),
      }),
      rateWindowMs: WINDOW_MS,
    });
    baseURL = `${serving.server.url}/v1`;
  });
  after(async () => {
    await serving.server.close({ graceMs: 1000 });
    await llama.dispose();
    await whoami.close();
    await model.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a missing or wrong key 401 invalid_api_key in OpenAI's format", async () => {
    const missing = await fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: USER }),
    });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
    const body = (await missing.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.code, "invalid_api_key");
    await assert.rejects(
      client(`${KEYS.counted}x`).chat.completions.create({ model: "tiny", messages: USER, max_tokens: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.equal(error.status, 401);
        assert.equal(error.code, "invalid_api_key");
        assert.match(error.message, /Incorrect API key provided/);
        assert.ok(!error.message.includes(KEYS.counted), "the key is not echoed");
        return true;
      },
    );
    await assert.rejects(
      client("sk-slw-nonsense").models.list(),
      (e: unknown) => e instanceof APIError && e.status === 401,
    );
    // health and metrics stay public
    assert.equal((await fetch(`${serving.server.url}/health`)).status, 200);
    assert.equal((await fetch(`${serving.server.url}/metrics`)).status, 200);
  });

  it("refuses requests over rpm with 429, Retry-After and x-ratelimit headers, and recovers after the window", async () => {
    const c = client(KEYS.rpm);
    for (let i = 0; i < 2; i++) {
      const { response } = await c.chat.completions
        .create({ model: "tiny", messages: USER, max_tokens: 2 })
        .withResponse();
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "2");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), String(1 - i));
      assert.match(response.headers.get("x-ratelimit-reset-requests") ?? "", /^\d+(\.\d+)?m?s$/);
    }
    let retryAfter = 0;
    await assert.rejects(
      c.chat.completions.create({ model: "tiny", messages: USER, max_tokens: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.equal(error.status, 429);
        assert.equal(error.code, "rate_limit_exceeded");
        assert.equal(error.type, "requests");
        assert.match(
          error.message,
          /Rate limit reached for key 'rpm-limited' on requests per min \(RPM\): Limit 2, Used 2/,
        );
        retryAfter = Number(header(error, "retry-after"));
        assert.ok(retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000, `Retry-After ${retryAfter}`);
        assert.equal(header(error, "x-ratelimit-remaining-requests"), "0");
        assert.equal(header(error, "x-ratelimit-limit-requests"), "2");
        return true;
      },
    );
    // another key is not affected
    await client(KEYS.counted).chat.completions.create({ model: "tiny", messages: USER, max_tokens: 1 });
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 50));
    const { response } = await c.chat.completions
      .create({ model: "tiny", messages: USER, max_tokens: 2 })
      .withResponse();
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "1");
  });

  it("counts streamed tokens against tpm and refuses the next request once they reach it", async () => {
    const c = client(KEYS.tpm);
    const stream = await c.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 40,
      stream: true,
      stream_options: { include_usage: true },
      ...IGNORE_EOS,
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage && usage.total_tokens > 30);
    await assert.rejects(c.completions.create({ model: "tiny", prompt: "x", max_tokens: 1 }), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 429);
      assert.equal(error.type, "tokens");
      assert.equal(error.code, "rate_limit_exceeded");
      assert.match(error.message, new RegExp(`tokens per min \\(TPM\\): Limit 30, Used ${usage.total_tokens}`));
      assert.equal(header(error, "x-ratelimit-limit-tokens"), "30");
      assert.equal(header(error, "x-ratelimit-remaining-tokens"), "0");
      assert.ok(Number(header(error, "retry-after")) >= 1);
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 50));
    const { response } = await c.completions.create({ model: "tiny", prompt: "x", max_tokens: 1 }).withResponse();
    assert.equal(response.status, 200);
  });

  it("gives a model-restricted key 404 model_not_found for other models and hides them from /v1/models", async () => {
    const c = client(KEYS.restricted);
    const ok = await c.chat.completions.create({ model: "second", messages: USER, max_tokens: 2 });
    assert.equal(ok.model, "second");
    for (const call of [
      () => c.chat.completions.create({ model: "tiny", messages: USER, max_tokens: 2 }),
      () => c.embeddings.create({ model: "tiny", input: "x" }),
      () => c.models.retrieve("tiny"),
    ]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.equal(error.status, 404);
        assert.equal(error.code, "model_not_found");
        assert.match(error.message, /The model 'tiny' does not exist or you do not have access to it/);
        return true;
      });
    }
    const listed = await c.models.list();
    assert.deepEqual(
      listed.data.map((m) => m.id),
      ["second"],
    );
    const all = await client(KEYS.admin).models.list();
    assert.deepEqual(all.data.map((m) => m.id).sort(), ["second", "tiny"]);
  });

  it("accounts usage per key and model, equal to what the client saw, in /v1/usage and /metrics", async () => {
    const c = client(KEYS.counted);
    const before = await usageOf(KEYS.counted);
    let prompt = 0;
    let completion = 0;
    const chat = await c.chat.completions.create({ model: "tiny", messages: USER, max_tokens: 5, n: 2, ...IGNORE_EOS });
    prompt += chat.usage!.prompt_tokens;
    completion += chat.usage!.completion_tokens;
    const stream = await c.chat.completions.create({
      model: "tiny",
      messages: USER,
      max_tokens: 7,
      stream: true,
      stream_options: { include_usage: true },
      ...IGNORE_EOS,
    });
    for await (const chunk of stream) {
      if (chunk.usage) {
        prompt += chunk.usage.prompt_tokens;
        completion += chunk.usage.completion_tokens;
      }
    }
    const text = await c.completions.create({ model: "tiny", prompt: ["one", "two"], max_tokens: 3, ...IGNORE_EOS });
    prompt += text.usage!.prompt_tokens;
    completion += text.usage!.completion_tokens;
    const embedded = await c.embeddings.create({ model: "tiny", input: ["alpha", "beta gamma"] });
    prompt += embedded.usage.prompt_tokens;
    // a request the engine refuses counts as the key's error
    await assert.rejects(
      c.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x ".repeat(400) }] }),
      (e: unknown) => e instanceof APIError && e.status === 400,
    );
    const after = await usageOf(KEYS.counted);
    const delta = (field: keyof typeof after.totals) => after.totals[field] - before.totals[field];
    assert.equal(delta("requests"), 5);
    assert.equal(delta("prompt_tokens"), prompt);
    assert.equal(delta("completion_tokens"), completion);
    assert.equal(delta("total_tokens"), prompt + completion);
    assert.equal(delta("errors"), 1);
    assert.equal(after.key, "counted");
    assert.equal(after.models.tiny!.completion_tokens, after.totals.completion_tokens);

    const metrics = await (await fetch(`${serving.server.url}/metrics`)).text();
    const labels = { key: "counted", model: "tiny" };
    assert.equal(metricValue(metrics, "slipway_llm_key_requests_total", labels), after.totals.requests);
    assert.equal(metricValue(metrics, "slipway_llm_key_prompt_tokens_total", labels), after.totals.prompt_tokens);
    assert.equal(
      metricValue(metrics, "slipway_llm_key_completion_tokens_total", labels),
      after.totals.completion_tokens,
    );
    assert.equal(metricValue(metrics, "slipway_llm_key_errors_total", labels), 1);
    assert.ok(
      (metricValue(metrics, "slipway_llm_key_rate_limited_total", { key: "rpm-limited", limit: "requests" }) ?? 0) >= 1,
    );
  });

  it("shows a key its own usage only; an admin key sees every key", async () => {
    const own = await fetch(`${baseURL}/usage?key=admin`, { headers: { authorization: `Bearer ${KEYS.counted}` } });
    assert.equal(own.status, 403);
    assert.equal(((await own.json()) as { error: { code: string } }).error.code, "insufficient_permissions");
    const list = await fetch(`${baseURL}/usage`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    const body = (await list.json()) as { object: string; data: { key: string }[] };
    assert.equal(body.object, "list");
    assert.ok(body.data.some((u) => u.key === "counted") && body.data.some((u) => u.key === "rpm-limited"));
    const one = await fetch(`${baseURL}/usage?key=counted`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    assert.equal(((await one.json()) as { key: string }).key, "counted");
    assert.equal((await fetch(`${baseURL}/usage`)).status, 401);
  });

  it("also serves control-plane tokens (either suffices), counted as user:NAME; a down control plane is 503", async () => {
    const rita = client("slw_rita_token");
    const res = await rita.chat.completions.create({ model: "tiny", messages: USER, max_tokens: 3, ...IGNORE_EOS });
    const usage = await usageOf("slw_rita_token");
    assert.equal(usage.key, "user:rita");
    assert.equal(usage.totals.completion_tokens, res.usage!.completion_tokens);
    const calls = whoami.calls;
    await rita.models.list();
    assert.equal(whoami.calls, calls, "cached");
    await assert.rejects(
      client("slw_unknown").models.list(),
      (e: unknown) => e instanceof APIError && e.status === 401,
    );
    await whoami.close();
    await assert.rejects(client("slw_other").models.list(), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 503);
      assert.equal(error.code, "auth_unavailable");
      assert.equal(error.type, "server_error");
      assert.match(error.message, /control plane .* could not be reached/);
      return true;
    });
    // own keys do not need the control plane
    await client(KEYS.counted).models.list();
  });

  async function usageOf(key: string): Promise<{
    key: string;
    totals: Record<"requests" | "prompt_tokens" | "completion_tokens" | "total_tokens" | "errors", number>;
    models: Record<string, { completion_tokens: number }>;
  }> {
    const res = await fetch(`${baseURL}/usage`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as Awaited<ReturnType<typeof usageOf>>;
  }
});
