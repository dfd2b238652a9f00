/**
 * An admitted request's accounting, on a generation stream the test drives token by token: tokens count
 * against the key's tpm while they are generated (so a concurrent request is refused mid-stream), and the
 * exact usage replaces the estimate when the stream ends.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Registry } from "prom-client";
import { ApiKeyring, hashApiKey } from "../../auth/api-keys.js";
import { DataPlaneAuth } from "../../auth/data-plane-auth.js";
import type { GenerationEvent, GenerationStream } from "../engine/llm-provider.js";
import { EventChannel } from "../engine/event-channel.js";
import { LlmError } from "../errors.js";
import { RateLimiter } from "../keys/rate-limiter.js";
import { UsageLedger } from "../keys/usage-ledger.js";
import { LlmAccess } from "./llm-access.js";
import { VllmMetrics } from "./vllm-metrics.js";

function fakeRequest(key: string): FastifyRequest {
  return {
    headers: { authorization: `Bearer ${key}` },
    routeOptions: { url: "/v1/chat/completions" },
  } as unknown as FastifyRequest;
}

function fakeReply(): FastifyReply & { sent: Record<string, string> } {
  const reply = {
    sent: {} as Record<string, string>,
    header(name: string, value: string) {
      reply.sent[name] = value;
      return reply;
    },
    headers(values: Record<string, string>) {
      Object.assign(reply.sent, values);
      return reply;
    },
  };
  return reply as unknown as FastifyReply & { sent: Record<string, string> };
}

describe("LlmAccess admission accounting", () => {
  it("counts streamed tokens against tpm as they come, and settles on the exact usage", async () => {
    const key = "sk-slw-test-key";
    const auth = new DataPlaneAuth({ keys: new ApiKeyring([{ name: "k", sha256: hashApiKey(key), tpm: 10 }]) });
    const limiter = new RateLimiter({ windowMs: 60_000 });
    const ledger = new UsageLedger(new Registry());
    const access = new LlmAccess({ auth, limiter, ledger, vllm: new VllmMetrics(new Registry(), () => []) });
    const first = fakeRequest(key);
    await access.authenticate(first, fakeReply());
    const admission = access.admit(first, fakeReply(), "m", performance.now());
    assert.equal(admission.headers["x-ratelimit-remaining-tokens"], "10");

    const channel = new EventChannel<GenerationEvent>();
    const inner: GenerationStream = {
      choices: 1,
      promptTokens: 4,
      [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
    };
    const iterator = admission.observe(inner)[Symbol.asyncIterator]();
    const next = iterator.next();
    assert.equal(limiter.tokensUsed("k"), 4, "the prompt counts once the stream exists");
    for (let i = 0; i < 6; i++) channel.push({ type: "text", choice: 0, text: `t${i}` });
    await next;
    for (let i = 0; i < 5; i++) await iterator.next();
    assert.equal(limiter.tokensUsed("k"), 10, "six generated tokens counted mid-stream");

    const second = fakeRequest(key);
    await access.authenticate(second, fakeReply());
    const reply = fakeReply();
    assert.throws(
      () => access.admit(second, reply, "m", performance.now()),
      (e: unknown) => e instanceof LlmError && e.status === 429 && e.type === "tokens",
    );
    assert.equal(reply.sent["x-ratelimit-remaining-tokens"], "0");

    channel.push({ type: "finish", choice: 0, reason: "length" });
    channel.push({ type: "usage", usage: { promptTokens: 4, completionTokens: 7 } });
    channel.end();
    while (!(await iterator.next()).done);
    assert.equal(limiter.tokensUsed("k"), 11, "corrected to the exact usage (7 tokens, one without text)");
    assert.deepEqual(ledger.usage("k").totals, {
      requests: 1,
      prompt_tokens: 4,
      completion_tokens: 7,
      total_tokens: 11,
      errors: 0,
    });
  });
});
