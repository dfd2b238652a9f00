/**
 * `slipway llm …`: LLM serving.
 *
 * - `slipway llm serve --model NAME=./model.gguf [--model …]`: an OpenAI-compatible server
 *   (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`, `/health`) on the
 *   embedded llama.cpp engine; concurrent requests share one context (`--parallel` sequences) behind a
 *   bounded queue (beyond it: 503 with Retry-After). SIGTERM / SIGINT: stop accepting, let in-flight
 *   requests finish (up to 30 s), exit 0. Model names can also be served by OpenAI-compatible upstream
 *   servers (`--upstream NAME=URL[@weight=N][@model=M][@key-env=VAR]`, `--fallback NAME=OTHER`, or a
 *   routing file `--routing routing.yaml`): weighted balancing, health checks, retries, fallback.
 * - `slipway llm make-test-model --out FILE [--shape tiny|qwen2-0.5b] [--seed N]`: a random-weight GGUF
 *   model around the real tokenizer bundled with node-llama-cpp, for tests and benchmarks (no download).
 */
import { access, readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml, YAMLParseError } from "yaml";
import {
  LlmServeConfigError,
  TEST_MODEL_SHAPES,
  isTestModelShapeName,
  loadLlmServeConfig,
  makeTestModel,
  openLlama,
  serveLlm,
  type LlmServeFlags,
  type RoutingFile,
} from "@slipway/inference";
import { UsageError } from "../errors.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface MakeTestModelFlags {
  out: string;
  shape: string;
  seed: string;
}

interface ServeLlmFlags extends LlmServeFlags {
  logLevel?: string;
  routing?: string;
}

/** The routing file as plain data (YAML, or JSON, which is YAML too). */
async function readRoutingFile(path: string): Promise<RoutingFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`--routing: cannot read '${path}'`);
  }
  try {
    return { source: path, document: parseYaml(text) as unknown };
  } catch (error) {
    if (error instanceof YAMLParseError) throw new UsageError(`${path}: ${error.message.split("\n")[0]}`);
    throw error;
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function registerLlm(program: Command): void {
  const llm = program
    .command("llm")
    .description("Serve LLMs over OpenAI's API (embedded llama.cpp); write test models");

  llm
    .command("serve")
    .description("Serve GGUF models over OpenAI's API: chat, completions, embeddings, SSE streaming")
    .option("--model <name=path>", "serve the GGUF file at PATH as NAME (repeat for several models)", collect)
    .option("--port <port>", "port to listen on (env SLIPWAY_LLM_PORT; default 8000)")
    .option("--host <host>", "address to bind (env SLIPWAY_LLM_HOST; default 127.0.0.1)")
    .option("--parallel <n>", "sequences decoding together per model (continuous batching; default 4)")
    .option("--context-size <n>", "tokens per sequence, prompt and completion (default: the model's, at most 4096)")
    .option("--threads <n>", "evaluation threads (default: the machine's math cores)")
    .option("--batch-size <n>", "tokens per llama.cpp batch (default 512)")
    .option(
      "--queue-capacity <n>",
      "generations that may wait for a sequence; beyond it: 503 with Retry-After (default max(64, 16 × parallel))",
    )
    .option("--body-limit <bytes>", "largest request body; beyond it: 413 (default 16 MiB)")
    .option("--gpu <mode>", "auto (a GPU when a prebuilt binary works here) or false (CPU only)", "auto")
    .option(
      "--upstream <name=url>",
      "serve NAME from an OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp, Slipway) at its /v1 URL; " +
        "repeat a NAME to balance over several; options: @weight=N @model=UPSTREAM_NAME @key-env=VAR",
      collect,
    )
    .option(
      "--fallback <name=other>",
      "when NAME fails (unreachable, 5xx, 429, timeout), try OTHER[,…] (repeatable)",
      collect,
    )
    .option("--upstream-timeout <duration>", "per attempt: until the first token, or the whole answer (default 60s)")
    .option("--upstream-key-env <var>", "environment variable holding the upstreams' API key (sent as a Bearer token)")
    .option(
      "--routing <file>",
      "a routing file (YAML): per model, targets with weights, timeouts, retries, health checks, fallbacks",
    )
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default warn)", "warn")
    .action(async (flags: ServeLlmFlags) => {
      let config;
      const routing = flags.routing === undefined ? undefined : await readRoutingFile(flags.routing);
      try {
        config = loadLlmServeConfig(flags, process.env, routing);
      } catch (error) {
        if (error instanceof LlmServeConfigError) throw new UsageError(error.message);
        throw error;
      }
      const level = flags.logLevel ?? "warn";
      if (!LOG_LEVELS.includes(level))
        throw new UsageError(`--log-level: '${level}' is not one of ${LOG_LEVELS.join(", ")}`);
      for (const model of config.models) {
        try {
          await access(model.path);
        } catch {
          throw new UsageError(`--model ${model.name}: no such file '${model.path}'`);
        }
      }
      const llama = config.models.length > 0 ? await openLlama({ gpu: config.gpu }) : undefined;
      const serving = await serveLlm({
        config,
        ...(llama === undefined ? {} : { llama }),
        logger: level === "silent" ? false : { level },
        onProgress: (line) => process.stdout.write(`${line}\n`),
      });
      const upstreamNames = serving.upstreams.map((u) => u.name);
      process.stdout.write(
        `Slipway LLM server listening on ${serving.server.url}\n` +
          (llama === undefined
            ? ""
            : `  models:  ${config.models.map((m) => m.name).join(", ")} (llama.cpp, ${llama.gpu === false ? "CPU" : llama.gpu})\n`) +
          (upstreamNames.length === 0 ? "" : `  routed:  ${upstreamNames.join(", ")} (upstream)\n`) +
          `  OpenAI:  ${serving.server.url}/v1  (chat/completions, completions, embeddings, models)\n` +
          `  health:  /health   metrics: /metrics\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stdout.write(`\n${signal}: finishing in-flight requests and shutting down\n`);
          serving.server.close().then(resolve, (error: unknown) => {
            process.stderr.write(`error while shutting down: ${String(error)}\n`);
            resolve();
          });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await llama?.dispose();
    });

  llm
    .command("make-test-model")
    .description("Write a random-weight GGUF model around a real tokenizer (for tests and benchmarks; no download)")
    .requiredOption("--out <file>", "the GGUF file to write")
    .option("--shape <shape>", `${Object.keys(TEST_MODEL_SHAPES).join(" | ")}`, "tiny")
    .option("--seed <n>", "random seed (the same seed writes the same file)", "0")
    .action(async (flags: MakeTestModelFlags) => {
      if (!isTestModelShapeName(flags.shape)) {
        throw new UsageError(`--shape: '${flags.shape}' is not one of ${Object.keys(TEST_MODEL_SHAPES).join(", ")}`);
      }
      if (!/^\d+$/.test(flags.seed) || !Number.isSafeInteger(Number(flags.seed))) {
        throw new UsageError(`--seed: '${flags.seed}' is not a non-negative integer`);
      }
      const started = performance.now();
      const info = await makeTestModel({ out: flags.out, shape: flags.shape, seed: Number(flags.seed) });
      const shape = TEST_MODEL_SHAPES[info.shape];
      process.stdout.write(
        `wrote ${info.path}: ${info.shape} (${shape.architecture}, ${shape.layers} layers × ${shape.embedding} dims), ` +
          `seed ${info.seed}, ${(info.bytes / 1e6).toFixed(1)} MB, ${(info.parameters / 1e6).toFixed(1)}M parameters, ` +
          `${info.vocabularySize} tokens (${shape.vocabulary} tokenizer), in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
}
