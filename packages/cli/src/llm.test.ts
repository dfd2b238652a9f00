/**
 * End to end: `slipway llm make-test-model` writes a model, `slipway llm serve` serves it in a child
 * process, the `openai` client talks to it, SIGTERM stops it cleanly (exit 0).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { BIN, runSlipway } from "./testing/harness.js";

interface LlmServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
}

async function startLlmServe(args: readonly string[]): Promise<LlmServerProcess> {
  const child = spawn(process.execPath, [BIN, "llm", "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off("data", onData);
        resolve(m[1]!);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`slipway llm serve exited with ${code}: ${out}`)));
  });
  return { url, child, output: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
}

describe("slipway llm", () => {
  let dir: string;
  let modelPath: string;
  let server: LlmServerProcess;
  let client: OpenAI;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-llm-e2e-"));
    modelPath = join(dir, "tiny.gguf");
  });
  after(async () => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("make-test-model writes a GGUF model", async () => {
    const result = await runSlipway(["llm", "make-test-model", "--out", modelPath, "--shape", "tiny", "--seed", "1"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^wrote .*tiny\.gguf: tiny \(llama, 2 layers × 64 dims\), seed 1, /);
    assert.ok((await stat(modelPath)).size > 10_000_000);
  });

  it("serve answers the OpenAI client: models, chat, streaming, completions, embeddings", async () => {
    server = await startLlmServe([
      "--model",
      `tiny=${modelPath}`,
      "--port",
      "0",
      "--threads",
      "1",
      "--parallel",
      "2",
      "--context-size",
      "512",
      "--gpu",
      "false",
    ]);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });

    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["tiny"],
    );

    const chat = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 4,
      seed: 1,
    });
    assert.equal(chat.object, "chat.completion");
    assert.ok(chat.usage!.completion_tokens <= 4);

    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);

    const completion = await client.completions.create({ model: "tiny", prompt: "Once", max_tokens: 3 });
    assert.equal(completion.object, "text_completion");

    const embeddings = await client.embeddings.create({ model: "tiny", input: ["a", "b"] });
    assert.equal(embeddings.data.length, 2);
    assert.equal(embeddings.data[0]!.embedding.length, 64);

    await assert.rejects(
      client.chat.completions.create({ model: "other", messages: [{ role: "user", content: "x" }] }),
      {
        status: 404,
      },
    );
  });

  it("SIGTERM shuts the server down cleanly", async () => {
    server.child.kill("SIGTERM");
    assert.equal(await exited(server.child), 0);
    assert.match(server.output(), /SIGTERM: finishing in-flight requests and shutting down/);
  });

  it("bad usage exits 2 with a one-line message", async () => {
    const noModel = await runSlipway(["llm", "serve"]);
    assert.equal(noModel.code, 2);
    assert.match(noModel.stderr, /give at least one --model/);
    const badShape = await runSlipway(["llm", "make-test-model", "--out", join(dir, "x.gguf"), "--shape", "huge"]);
    assert.equal(badShape.code, 2);
    assert.match(badShape.stderr, /--shape: 'huge' is not one of tiny, qwen2-0.5b/);
    const missing = await runSlipway(["llm", "serve", "--model", `m=${join(dir, "missing.gguf")}`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
  });
});
