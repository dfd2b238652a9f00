/**
 * GGUF models through the registry, end to end: a real `slipway server` (child process, SQLite), the
 * real `slipway llm log-model` command logging the tiny random-weight model (params, `gguf` package,
 * registered version, alias), then the LLM server wiring (`serveLlm`, as `slipway llm serve`) loading
 * `models:/tiny@prod` through the verified model cache and answering the `openai` client. Bad URIs and a
 * package without the `gguf` flavor get clear errors.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Llama } from "node-llama-cpp";
import { loadLlmServeConfig, makeTestModel, openLlama, resolveGguf, serveLlm } from "@slipway/inference";
import { slipwayFlavor, type MLmodel } from "@slipway/ml";
import { GGUF_FLAVOR, Slipway, TrackingClient, logModelPackage, sha256OfFile } from "@slipway/sdk";
import { runSlipway, startServerProcess, type ServerProcess } from "../testing/harness.js";

describe("slipway llm log-model and serving models:/ URIs", () => {
  let server: ServerProcess;
  let client: TrackingClient;
  let dir: string;
  let modelPath: string;
  let llama: Llama;

  before(async () => {
    server = await startServerProcess("slipway-llm-registry-");
    client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
    dir = await mkdtemp(join(tmpdir(), "slipway-llm-registry-test-"));
    modelPath = join(dir, "tiny.gguf");
    await makeTestModel({ out: modelPath, shape: "tiny", seed: 1 });
    llama = await openLlama({ gpu: false, logLevel: "error" });
  });
  after(async () => {
    await llama?.dispose();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("logs, registers and aliases a GGUF file, then serves models:/tiny@prod", async () => {
    const out = await runSlipway([
      "llm",
      "log-model",
      modelPath,
      "--name",
      "tiny-gguf",
      "--experiment",
      "llms",
      "--register",
      "tiny",
      "--alias",
      "prod",
      "--tracking-uri",
      server.url,
      "--json",
    ]);
    assert.equal(out.code, 0, out.stderr);
    const logged = JSON.parse(out.stdout) as { runId: string; modelUri: string; version: string };
    assert.equal(logged.version, "1");
    assert.equal(logged.modelUri, `runs:/${logged.runId}/model`);

    // the run: the header's facts as params
    const { run } = await client.getRun({ run_id: logged.runId });
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    assert.equal(params.architecture, "llama");
    assert.equal(params.file, "tiny.gguf");
    assert.equal(params.chat_template, "true");
    assert.match(params.parameter_count!, /^\d+$/);
    assert.ok(Number(params.parameter_count) > 1_000_000);
    assert.ok(params.quantization !== undefined && params.quantization !== "unknown");
    assert.ok(Number(params.context_length) > 0);

    // the package's MLmodel: the gguf flavor with the file's sha-256, and a chat signature
    const artifacts = join(dir, "mlmodel-check");
    await client.artifacts.repository(`${run.info.artifact_uri}/model`).getFile("MLmodel", artifacts);
    const mlmodelText = await readFile(artifacts, "utf8");
    assert.match(mlmodelText, new RegExp(`${GGUF_FLAVOR}:`));
    assert.match(mlmodelText, new RegExp(`sha256: ${await sha256OfFile(modelPath)}`));
    assert.match(mlmodelText, /data: model\.gguf/);
    assert.match(mlmodelText, /messages/);

    // served from the registry through the cache
    const cacheDir = join(dir, "cache");
    const config = loadLlmServeConfig({
      model: ["models:/tiny@prod"],
      port: "0",
      threads: "1",
      parallel: "1",
      contextSize: "256",
    });
    const progress: string[] = [];
    const serving = await serveLlm({
      config,
      llama,
      trackingClient: client,
      modelCacheDir: cacheDir,
      onProgress: (line) => progress.push(line),
    });
    try {
      assert.ok(
        progress.some((l) => l.includes("models:/tiny@prod (version 1)")),
        progress.join("\n"),
      );
      const openai = new OpenAI({ baseURL: `${serving.server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const models = await openai.models.list();
      assert.deepEqual(
        models.data.map((m) => m.id),
        ["tiny"],
      );
      const res = await openai.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: "Hello" }],
        max_tokens: 4,
        ignore_eos: true,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      assert.equal(res.choices[0]!.finish_reason, "length");
      assert.equal(res.usage!.completion_tokens, 4);
    } finally {
      await serving.server.close({ graceMs: 1000 });
    }

    // a second resolution is a cache hit
    const again = await resolveGguf("models:/tiny@prod", { client, cacheDir });
    assert.match(again.description, /from the cache/);
    assert.equal(await sha256OfFile(again.path), await sha256OfFile(modelPath));
  });

  it("gives clear errors for bad URIs, missing models and packages without the gguf flavor", async () => {
    await assert.rejects(resolveGguf("models:/nope@prod", { client }), /nope/);
    await assert.rejects(resolveGguf("models:/tiny@staging", { client }), /staging/);
    await assert.rejects(resolveGguf("models:/tiny@prod"), /--tracking-uri/);
    await assert.rejects(resolveGguf(join(dir, "absent.gguf")), /no such file or directory/);

    // a registered package of another flavor
    const slipway = new Slipway({ client, handleProcessExit: false });
    const other: MLmodel = { flavors: slipwayFlavor({ predictor: "echo", data: "data.json" }) };
    await slipway.withRun({ captureEnvironment: false, logGitDiff: false }, async (run) => {
      await logModelPackage(
        run,
        { mlmodel: other, files: new Map([["data.json", new TextEncoder().encode("{}")]]) },
        "model",
        {
          supportedFlavors: ["slipway"],
          registeredModelName: "not-gguf",
        },
      );
    });
    await assert.rejects(
      resolveGguf("models:/not-gguf/1", { client, cacheDir: join(dir, "cache2") }),
      (error: Error) => {
        assert.match(error.message, /models:\/not-gguf\/1/);
        assert.match(error.message, /gguf/);
        return true;
      },
    );

    // the command line: a malformed URI, an alias without a model, a file that is not GGUF
    const badUri = await runSlipway(["llm", "serve", "--model", "q=models:/", "--port", "0"]);
    assert.equal(badUri.code, 2, badUri.stderr);
    assert.match(badUri.stderr, /--model q: /);
    const noRegister = await runSlipway(["llm", "log-model", modelPath, "--name", "x", "--alias", "prod"]);
    assert.equal(noRegister.code, 2);
    assert.match(noRegister.stderr, /--alias needs --register/);
    const notGguf = join(dir, "not.gguf");
    await writeFile(notGguf, "this is not a model");
    const bad = await runSlipway(["llm", "log-model", notGguf, "--name", "x", "--tracking-uri", server.url]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not a GGUF file/);
  });
});
