import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LlmServeConfigError, loadLlmServeConfig, parseModelSource } from "./llm-serve-config.js";

describe("loadLlmServeConfig", () => {
  it("defaults", () => {
    const config = loadLlmServeConfig({ model: ["qwen=./q.gguf"] }, {});
    assert.deepEqual(config, {
      models: [{ name: "qwen", path: "./q.gguf" }],
      host: "127.0.0.1",
      port: 8000,
      parallel: 4,
      contextSize: undefined,
      threads: undefined,
      batchSize: undefined,
      queueCapacity: 64,
      bodyLimit: undefined,
      gpu: "auto",
      routing: { routes: [] },
    });
  });

  it("reads flags, then the environment", () => {
    const config = loadLlmServeConfig(
      { model: ["/models/tiny.gguf"], parallel: "8", contextSize: "2048", threads: "1", gpu: "false" },
      { SLIPWAY_LLM_PORT: "9000", SLIPWAY_LLM_HOST: "0.0.0.0" },
    );
    assert.deepEqual(config.models, [{ name: "tiny", path: "/models/tiny.gguf" }]);
    assert.deepEqual(
      [config.port, config.host, config.parallel, config.contextSize, config.threads, config.gpu],
      [9000, "0.0.0.0", 8, 2048, 1, false],
    );
    assert.equal(config.queueCapacity, 128);
  });

  it("serves upstreams alone, with routes from flags", () => {
    const config = loadLlmServeConfig({ upstream: ["big=http://vllm:8000/v1/"], upstreamTimeout: "2s" }, {});
    assert.deepEqual(config.models, []);
    assert.equal(config.routing.routes.length, 1);
    assert.deepEqual(config.routing.routes[0]!.targets, [
      { url: "http://vllm:8000/v1", weight: 1, model: undefined, apiKey: undefined },
    ]);
    assert.equal(config.routing.routes[0]!.timeoutMs, 2000);
  });

  it("fails fast, naming the setting", () => {
    assert.throws(() => loadLlmServeConfig({}, {}), /at least one --model NAME=\.\/model\.gguf or --upstream/);
    assert.throws(
      () => loadLlmServeConfig({ upstream: ["a=ftp://x"] }, {}),
      /--upstream a=ftp:\/\/x: 'ftp:\/\/x' is not an http\(s\) URL/,
    );
    assert.throws(
      () => loadLlmServeConfig({ model: ["a=x"], upstream: ["a=http://h/v1"] }, {}),
      /'a' is served by --model already/,
    );
    assert.throws(() => loadLlmServeConfig({ model: ["a=x.gguf", "a=y.gguf"] }, {}), /'a' is given twice/);
    assert.throws(() => loadLlmServeConfig({ model: ["a=x"], parallel: "0" }, {}), /--parallel: '0'/);
    assert.throws(() => loadLlmServeConfig({ model: ["a=x"], port: "http" }, {}), /--port/);
    assert.throws(() => loadLlmServeConfig({ model: ["a=x"], gpu: "cuda-please" }, {}), /--gpu/);
    assert.throws(() => parseModelSource("a="), LlmServeConfigError);
    assert.throws(() => parseModelSource("bad name=x.gguf"), /not a usable model name/);
    assert.deepEqual(parseModelSource("q=models:/qwen@prod"), { name: "q", path: "models:/qwen@prod" });
    assert.deepEqual(parseModelSource("models:/qwen@prod"), { name: "qwen", path: "models:/qwen@prod" });
    assert.throws(() => parseModelSource("q=models:/"), /--model q: /);
  });
});

describe("loadLlmServeConfig: request traces", () => {
  const base = { model: ["qwen=./q.gguf"] };
  it("--trace-experiment with the tracking server from the flag or the environment", () => {
    assert.deepEqual(
      loadLlmServeConfig({ ...base, traceExperiment: "chat-traces", trackingUri: "http://cp:5000" }, {}).tracing,
      { experiment: "chat-traces", trackingUri: "http://cp:5000", sampleRate: 1 },
    );
    assert.deepEqual(
      loadLlmServeConfig(
        { ...base, traceExperiment: "12", traceSampleRate: "0.25" },
        { SLIPWAY_TRACKING_URI: "https://cp.example" },
      ).tracing,
      { experiment: "12", trackingUri: "https://cp.example", sampleRate: 0.25 },
    );
    assert.equal(loadLlmServeConfig(base, {}).tracing, undefined);
  });

  it("refuses incomplete or bad tracing settings, naming the flag", () => {
    const bad: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ traceExperiment: "x" }, {}, /--trace-experiment: needs the tracking server/],
      [{ traceExperiment: "x", trackingUri: "ftp://cp" }, {}, /--tracking-uri: 'ftp:\/\/cp'/],
      [{ traceExperiment: "x", trackingUri: "http://cp", traceSampleRate: "1.5" }, {}, /--trace-sample-rate: '1.5'/],
      [{ traceExperiment: "x", trackingUri: "http://cp", traceSampleRate: "half" }, {}, /--trace-sample-rate/],
      [{ traceSampleRate: "0.5" }, {}, /--trace-sample-rate: needs --trace-experiment/],
      [{ traceExperiment: " " }, {}, /--trace-experiment: give a name or an id/],
    ];
    for (const [flags, env, message] of bad) {
      assert.throws(
        () => loadLlmServeConfig({ ...base, ...flags }, env),
        (e: unknown) => {
          assert.ok(e instanceof LlmServeConfigError);
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });
});
