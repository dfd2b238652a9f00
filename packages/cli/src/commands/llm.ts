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
 *   With `--api-keys FILE` and/or `--auth control-plane --tracking-uri URL`, callers must send a key or a
 *   control-plane token (`Authorization: Bearer …`); keys carry per-key rpm / tpm limits and usage.
 * - `slipway llm keys create --name N [--rpm N] [--tpm N] [--models a,b] [--admin] --file FILE`: a new API
 *   key, printed once; only its SHA-256 is appended (atomically) to the keys file.
 * - `slipway llm make-test-model --out FILE [--shape tiny|qwen2-0.5b] [--seed N]`: a random-weight GGUF
 *   model around the real tokenizer bundled with node-llama-cpp, for tests and benchmarks (no download).
 */
import { access, readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from "yaml";
import {
  ApiKeysError,
  JSON_KEYS_FORMAT,
  appendApiKeyEntry,
  generateApiKey,
  hashApiKey,
  openDataPlaneAuth,
  parseApiKeyEntry,
  type KeysFileFormat,
  LlmServeConfigError,
  TEST_MODEL_SHAPES,
  isTestModelShapeName,
  isModelUri,
  loadLlmServeConfig,
  makeTestModel,
  openLlama,
  serveLlm,
  type LlmServeFlags,
  type RoutingFile,
} from "@slipway/inference";
import { UsageError } from "../errors.js";
import { registerLlmLogModel } from "./llm-log-model.js";
import { clientFor } from "../client.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface MakeTestModelFlags {
  out: string;
  shape: string;
  seed: string;
}

/** Keys files are YAML (JSON is YAML too); a `.json` file is written back as JSON. */
export function keysFileFormat(path: string): KeysFileFormat {
  if (path.toLowerCase().endsWith(".json")) return { ...JSON_KEYS_FORMAT, parse: (text) => parseYaml(text) as unknown };
  return { parse: (text) => parseYaml(text) as unknown, stringify: (document) => stringifyYaml(document) };
}

interface KeysCreateFlags {
  name: string;
  file: string;
  rpm?: string;
  tpm?: string;
  models?: string;
  admin?: boolean;
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
    .option(
      "--model <name=path>",
      "serve the GGUF file, model package directory or model URI (models:/qwen@prod, runs:/…) at PATH as NAME (repeatable)",
      collect,
    )
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
    .option("--api-keys <file>", "require an API key from this keys file (slipway llm keys create); per-key limits")
    .option(
      "--auth <mode>",
      "control-plane: also accept the control plane's users and tokens, checked at --tracking-uri",
    )
    .option(
      "--tracking-uri <uri>",
      "the control plane (--auth control-plane, --model models:/…, --trace-experiment; env SLIPWAY_TRACKING_URI)",
    )
    .option(
      "--trace-experiment <name-or-id>",
      "record each request as an MLflow trace in this experiment of the tracking server (created if missing)",
    )
    .option("--trace-sample-rate <rate>", "fraction of requests traced, 0 to 1 (default 1)")
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
        if (isModelUri(model.path)) continue;
        try {
          await access(model.path);
        } catch {
          throw new UsageError(`--model ${model.name}: no such file '${model.path}'`);
        }
      }
      let auth;
      try {
        auth = config.auth
          ? await openDataPlaneAuth(config.auth, keysFileFormat(config.auth.apiKeysFile ?? ""))
          : undefined;
      } catch (error) {
        if (error instanceof ApiKeysError) throw new UsageError(`--api-keys: ${error.message}`);
        throw error;
      }
      const llama = config.models.length > 0 ? await openLlama({ gpu: config.gpu }) : undefined;
      // --model models:/…, runs:/… resolve through the tracking server
      const needsRegistry = config.models.some((m) => isModelUri(m.path));
      const serving = await serveLlm({
        config,
        ...(needsRegistry
          ? {
              trackingClient: clientFor({
                ...(flags.trackingUri === undefined ? {} : { trackingUri: flags.trackingUri }),
              }),
            }
          : {}),
        ...(auth === undefined ? {} : { auth }),
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
          `  health:  /health   metrics: /metrics (vLLM names)   usage: /v1/usage\n` +
          (auth === undefined
            ? ""
            : `  auth:    ${[
                auth.keys ? `${auth.keys.size} API keys (${config.auth?.apiKeysFile})` : "",
                auth.controlPlane ? `control plane ${config.auth?.controlPlane}` : "",
              ]
                .filter((s) => s !== "")
                .join(" + ")}\n`) +
          (config.tracing === undefined
            ? ""
            : `  traces:  experiment ${config.tracing.experiment} at ${config.tracing.trackingUri}` +
              (config.tracing.sampleRate < 1 ? ` (${config.tracing.sampleRate * 100}% sampled)` : "") +
              "\n"),
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

  const keys = llm.command("keys").description("API keys of the LLM server (hashed at rest)");
  keys
    .command("create")
    .description("Create an API key: printed once; its SHA-256 is appended to the keys file")
    .requiredOption("--name <name>", "the key's name (in usage, metrics and logs)")
    .requiredOption("--file <file>", "the keys file (YAML, or JSON when it ends in .json; created if missing)")
    .option("--rpm <n>", "requests per minute (default: unlimited)")
    .option("--tpm <n>", "tokens per minute, prompt + completion (default: unlimited)")
    .option("--models <names>", "comma-separated model names the key may use (default: all)")
    .option("--admin", "the key may read every key's usage (GET /v1/usage)")
    .action(async (flags: KeysCreateFlags) => {
      const number = (flag: string, text: string | undefined): number | undefined => {
        if (text === undefined) return undefined;
        if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
          throw new UsageError(`${flag}: '${text}' is not a positive integer`);
        }
        return Number(text);
      };
      const rpm = number("--rpm", flags.rpm);
      const tpm = number("--tpm", flags.tpm);
      const models = flags.models?.split(",").map((m) => m.trim());
      if (models?.some((m) => m === "")) throw new UsageError(`--models: '${flags.models}' has an empty name`);
      const key = generateApiKey();
      try {
        const entry = parseApiKeyEntry(
          {
            name: flags.name,
            sha256: hashApiKey(key),
            ...(models === undefined ? {} : { models }),
            ...(rpm === undefined ? {} : { rpm }),
            ...(tpm === undefined ? {} : { tpm }),
            ...(flags.admin === true ? { admin: true } : {}),
          },
          "--name",
        );
        await appendApiKeyEntry(flags.file, entry, keysFileFormat(flags.file));
      } catch (error) {
        if (error instanceof ApiKeysError) throw new UsageError(error.message);
        throw error;
      }
      process.stderr.write(
        `created key '${flags.name}' in ${flags.file}; it is shown only now — store it (restart the server to load it):\n`,
      );
      process.stdout.write(`${key}\n`);
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
  registerLlmLogModel(llm);
}
