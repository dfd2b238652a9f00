/**
 * The contract every `LlmProvider` keeps (the embedded llama.cpp engine today, OpenAI-compatible
 * upstreams next), as one suite each implementation runs: event order and counts, `n`, usage, stop
 * sequences, refusals as `LlmError`s before the stream starts, cancellation that frees the provider,
 * embeddings, and `close`. Checks never depend on what the model says.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LlmError } from "../errors.js";
import type {
  ChatRequest,
  CompletionRequest,
  GenerationEvent,
  GenerationStream,
  LlmProvider,
  SamplingOptions,
} from "./llm-provider.js";

export interface ProviderFixture {
  provider: LlmProvider;
  /** A model name the provider serves. */
  model: string;
  /** Tokens a request may use (for the too-long-prompt check). */
  contextLength: number;
  /** Frees everything; called after the suite, when the provider is already closed. */
  close(): Promise<void>;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  maxTokens: undefined,
  temperature: 1,
  topP: 1,
  seed: undefined,
  stop: [],
  presencePenalty: 0,
  frequencyPenalty: 0,
  logitBias: new Map(),
  responseFormat: { type: "text" },
  topK: undefined,
  minP: undefined,
  repetitionPenalty: undefined,
  ignoreEos: false,
};

const never = () => new AbortController().signal;

function chatRequest(
  model: string,
  sampling: Partial<SamplingOptions>,
  n = 1,
  content = "Tell me a story.",
): ChatRequest {
  return { model, messages: [{ role: "user", content }], n, sampling: { ...DEFAULT_SAMPLING, ...sampling }, raw: {} };
}

function completionRequest(model: string, sampling: Partial<SamplingOptions>, n = 1): CompletionRequest {
  return {
    model,
    prompts: ["Once upon a time"],
    n,
    echo: false,
    sampling: { ...DEFAULT_SAMPLING, ...sampling },
    raw: {},
  };
}

async function drain(stream: GenerationStream): Promise<GenerationEvent[]> {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function textOf(events: readonly GenerationEvent[], choice: number): string {
  return events
    .filter((e) => e.type === "text" && e.choice === choice)
    .map((e) => (e.type === "text" ? e.text : ""))
    .join("");
}

/** Runs the contract against the provider `setup` makes (one provider for the whole suite). */
export function llmProviderContract(name: string, setup: () => Promise<ProviderFixture>): void {
  describe(`LlmProvider contract: ${name}`, () => {
    let fixture: ProviderFixture;
    before(async () => (fixture = await setup()));
    after(() => fixture.close());

    it("lists the models it serves", () => {
      const ids = fixture.provider.models().map((m) => m.id);
      assert.ok(ids.includes(fixture.model));
    });

    it("streams text, then one finish per choice, then usage last", async () => {
      const stream = await fixture.provider.chat(
        chatRequest(fixture.model, { maxTokens: 5, ignoreEos: true }, 2),
        never(),
      );
      assert.equal(stream.choices, 2);
      assert.ok(stream.promptTokens > 0);
      const events = await drain(stream);
      const last = events.at(-1)!;
      assert.equal(last.type, "usage");
      assert.equal(events.filter((e) => e.type === "usage").length, 1);
      for (const choice of [0, 1]) {
        const own = events.filter((e) => e.type !== "usage" && e.choice === choice);
        assert.equal(own.at(-1)?.type, "finish");
        assert.equal(own.filter((e) => e.type === "finish").length, 1);
      }
      if (last.type === "usage") {
        assert.equal(last.usage.completionTokens, 10);
        assert.equal(last.usage.promptTokens, stream.promptTokens);
      }
    });

    it("finishes with 'length' at max tokens, and the same seed gives the same text", async () => {
      const request = completionRequest(fixture.model, { maxTokens: 6, seed: 11, temperature: 0.8, ignoreEos: true });
      const first = await drain(await fixture.provider.complete(request, never()));
      const again = await drain(await fixture.provider.complete(request, never()));
      assert.deepEqual(
        first.find((e) => e.type === "finish"),
        { type: "finish", choice: 0, reason: "length" },
      );
      assert.equal(textOf(again, 0), textOf(first, 0));
    });

    it("cuts the text before a stop sequence", async () => {
      const base = { maxTokens: 30, seed: 5, temperature: 0.8, ignoreEos: true };
      const full = textOf(
        await drain(await fixture.provider.complete(completionRequest(fixture.model, base), never())),
        0,
      );
      assert.ok(full.length >= 4);
      const stop = full.slice(2, 4);
      const cut = await drain(
        await fixture.provider.complete(completionRequest(fixture.model, { ...base, stop: [stop] }), never()),
      );
      assert.equal(textOf(cut, 0), full.slice(0, full.indexOf(stop)));
      assert.deepEqual(
        cut.find((e) => e.type === "finish"),
        { type: "finish", choice: 0, reason: "stop" },
      );
    });

    it("refuses a prompt longer than the context before streaming, as a 400 LlmError", async () => {
      const long = "word ".repeat(fixture.contextLength * 2);
      await assert.rejects(
        fixture.provider.chat(chatRequest(fixture.model, {}, 1, long), never()),
        (error: unknown) => {
          assert.ok(error instanceof LlmError);
          assert.equal(error.status, 400);
          assert.equal(error.code, "context_length_exceeded");
          return true;
        },
      );
    });

    it("stops generating when the signal aborts or the consumer leaves, and frees its capacity", async () => {
      const abort = new AbortController();
      const request = chatRequest(fixture.model, { maxTokens: fixture.contextLength - 64, ignoreEos: true });
      const stream = await fixture.provider.chat(request, abort.signal);
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      abort.abort(new Error("client left"));
      await assert.rejects(async () => {
        for (;;) if ((await iterator.next()).done) break;
      });
      await settle(() => fixture.provider.load().running === 0);

      const left = await fixture.provider.chat(
        chatRequest(fixture.model, { maxTokens: 200, ignoreEos: true }),
        never(),
      );
      for await (const event of left) if (event.type === "text") break;
      await settle(() => fixture.provider.load().running === 0);
      assert.deepEqual(fixture.provider.load(), { running: 0, waiting: 0 });
    });

    it("embeds inputs as unit vectors of one size", async () => {
      const result = await fixture.provider.embed(
        { model: fixture.model, inputs: ["one", "two words"], dimensions: undefined, raw: {} },
        never(),
      );
      assert.equal(result.vectors.length, 2);
      assert.equal(result.vectors[0]!.length, result.vectors[1]!.length);
      for (const v of result.vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
      assert.ok(result.promptTokens > 0);
    });

    // last: the provider is closed from here on (fixture.close() must tolerate a closed provider)
    it("refuses new work once closed, with a 503 LlmError", async () => {
      await fixture.provider.close();
      await assert.rejects(fixture.provider.chat(chatRequest(fixture.model, {}), never()), (error: unknown) => {
        assert.ok(error instanceof LlmError);
        assert.equal(error.status, 503);
        return true;
      });
    });
  });
}

async function settle(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("the provider did not settle in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
