/**
 * `slipway llm serve`'s configuration, parsed once at boot from flags (text) and failing fast with the
 * name of the bad setting. Environment fallbacks: `SLIPWAY_LLM_PORT`, `SLIPWAY_LLM_HOST`.
 *
 * `--model NAME=PATH` (repeatable) serves the GGUF file at PATH as NAME; a bare PATH is served under the
 * file's name without `.gguf`. PATH may also be a model package directory or a model URI
 * (`models:/qwen@prod`, `runs:/…/model`), resolved at startup (`registry/resolve-gguf.ts`); a bare URI
 * is served under the registered model's name (or the run path's last part). `--context-size` is per sequence: what one request (prompt and
 * completion) may use; `--parallel` sequences share one llama.cpp context.
 *
 * Upstreams (`--upstream NAME=URL[@weight=N][@model=M][@key-env=VAR]`, `--fallback NAME=OTHER[,…]`,
 * `--upstream-timeout`, `--upstream-key-env`, and a routing file that the caller has parsed) become the
 * validated routing tree of `upstream/routing-config.ts`.
 *
 * `--trace-experiment NAME_OR_ID` records each request (or a `--trace-sample-rate` fraction of them) as an MLflow
 * trace in that experiment of the tracking server at `--tracking-uri` (or SLIPWAY_TRACKING_URI / MLFLOW_TRACKING_URI).
 */
import { basename } from "node:path";
import { integerSetting } from "../config-values.js";
import { loadDataPlaneAuthConfig, type DataPlaneAuthConfig, type DataPlaneAuthFlags } from "../auth/auth-config.js";
import { MAX_CHOICES } from "./openai/sampling-params.js";
import { parseModelUri } from "@slipway/sdk";
import { modelNameFromUri } from "../serving/load-models.js";
import { isModelUri } from "./registry/resolve-gguf.js";
import {
  buildRoutingConfig,
  RoutingConfigError,
  type RoutingConfig,
  type RoutingFlags,
} from "./upstream/routing-config.js";

export interface LlmServeFlags extends RoutingFlags, DataPlaneAuthFlags {
  /** The control plane that `--auth control-plane` asks, and traces go to. */
  trackingUri?: string;
  /** Record requests as MLflow traces in this experiment (name or id). */
  traceExperiment?: string;
  /** Fraction of requests traced, 0 to 1 (default 1). */
  traceSampleRate?: string;
  model?: string[];
  port?: string;
  host?: string;
  parallel?: string;
  contextSize?: string;
  threads?: string;
  batchSize?: string;
  queueCapacity?: string;
  bodyLimit?: string;
  gpu?: string;
}

export interface LlmModelSource {
  name: string;
  /** A GGUF file, a model package directory, or a model URI. */
  path: string;
}

export interface LlmServeConfig {
  models: LlmModelSource[];
  host: string;
  port: number;
  parallel: number;
  /** Tokens per sequence; undefined: the model's training context, at most 4096. */
  contextSize: number | undefined;
  /** Evaluation threads; undefined: node-llama-cpp's default (the machine's math cores). */
  threads: number | undefined;
  batchSize: number | undefined;
  queueCapacity: number;
  bodyLimit: number | undefined;
  /** `auto` uses a GPU when a prebuilt binary for one works here; `false`: CPU only. */
  gpu: "auto" | false;
  /** Upstream targets, retries, health checks and fallbacks per model name. */
  routing: RoutingConfig;
  /** Present when callers are authenticated (`--api-keys FILE`, `--auth control-plane`). */
  auth?: DataPlaneAuthConfig;
  /** Present when requests are recorded as traces (`--trace-experiment`). */
  tracing?: LlmTracingConfig;
}

export interface LlmTracingConfig {
  /** An experiment id (digits) or name (created when missing). */
  experiment: string;
  trackingUri: string;
  /** Fraction of requests traced, 0 to 1. */
  sampleRate: number;
}

/** A routing file (`--routing routing.yaml`) as plain data, parsed by the caller, and its name for messages. */
export interface RoutingFile {
  source: string;
  document: unknown;
}

export class LlmServeConfigError extends Error {
  override readonly name = "LlmServeConfigError";
}

export const DEFAULT_LLM_PORT = 8000;
export const DEFAULT_LLM_PARALLEL = 4;
export const DEFAULT_LLM_QUEUE_CAPACITY = 64;

function integer(setting: string, text: string | undefined, min: number, max: number): number | undefined {
  return integerSetting({ name: setting, text, min, max }, (message) => new LlmServeConfigError(message));
}

export function parseModelSource(text: string): LlmModelSource {
  // a bare URI may hold '=' (e.g. in an artifact URI's query), so only NAME= before a URI is a name
  const eq = isModelUri(text) ? -1 : text.indexOf("=");
  const path = eq === -1 ? text : text.slice(eq + 1);
  let name = eq === -1 ? basename(text).replace(/\.gguf$/i, "") : text.slice(0, eq);
  if (eq === -1 && isModelUri(text)) {
    try {
      name = modelNameFromUri(text);
    } catch (error) {
      throw new LlmServeConfigError(`--model: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (path === "") throw new LlmServeConfigError(`--model: '${text}' names no file (use NAME=./model.gguf)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/.test(name)) {
    throw new LlmServeConfigError(
      `--model: '${name}' is not a usable model name (letters, digits and . _ : / @ -, at most 128 characters)`,
    );
  }
  if (isModelUri(path)) {
    // a malformed URI fails at startup, before any model loads
    try {
      parseModelUri(path);
    } catch (error) {
      throw new LlmServeConfigError(`--model ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { name, path };
}

export function loadLlmServeConfig(
  flags: LlmServeFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  routingFile?: RoutingFile,
): LlmServeConfig {
  const models = (flags.model ?? []).map(parseModelSource);
  const names = new Set<string>();
  for (const { name } of models) {
    if (names.has(name)) throw new LlmServeConfigError(`--model: the name '${name}' is given twice`);
    names.add(name);
  }
  let routing: RoutingConfig;
  try {
    routing = buildRoutingConfig({
      flags,
      ...(routingFile === undefined ? {} : { file: routingFile }),
      embedded: models.map((m) => m.name),
      env,
    });
  } catch (error) {
    if (error instanceof RoutingConfigError) throw new LlmServeConfigError(error.message);
    throw error;
  }
  if (models.length === 0 && !routing.routes.some((r) => r.targets.length > 0)) {
    throw new LlmServeConfigError("give at least one --model NAME=./model.gguf or --upstream NAME=URL");
  }
  const gpu = flags.gpu ?? "auto";
  if (gpu !== "auto" && gpu !== "false" && gpu !== "cpu") {
    throw new LlmServeConfigError(`--gpu: '${gpu}' is not one of auto, false`);
  }
  const parallel = integer("--parallel", flags.parallel, 1, 256) ?? DEFAULT_LLM_PARALLEL;
  const auth = loadDataPlaneAuthConfig(
    flags,
    flags.trackingUri?.trim() || env.SLIPWAY_TRACKING_URI?.trim() || env.MLFLOW_TRACKING_URI?.trim(),
    (message) => new LlmServeConfigError(message),
  );
  const tracing = loadTracingConfig(
    flags,
    flags.trackingUri?.trim() || env.SLIPWAY_TRACKING_URI?.trim() || env.MLFLOW_TRACKING_URI?.trim(),
  );
  return {
    models,
    host: flags.host ?? env.SLIPWAY_LLM_HOST ?? "127.0.0.1",
    port:
      integer("--port", flags.port, 0, 65535) ??
      integer("SLIPWAY_LLM_PORT", env.SLIPWAY_LLM_PORT, 0, 65535) ??
      DEFAULT_LLM_PORT,
    parallel,
    contextSize: integer("--context-size", flags.contextSize, 16, 1 << 20),
    threads: integer("--threads", flags.threads, 1, 1024),
    batchSize: integer("--batch-size", flags.batchSize, 1, 1 << 16),
    queueCapacity:
      integer("--queue-capacity", flags.queueCapacity, 0, 1_000_000) ??
      Math.max(DEFAULT_LLM_QUEUE_CAPACITY, parallel * MAX_CHOICES),
    bodyLimit: integer("--body-limit", flags.bodyLimit, 1024, 1 << 30),
    gpu: gpu === "auto" ? "auto" : false,
    routing,
    ...(auth === undefined ? {} : { auth }),
    ...(tracing === undefined ? {} : { tracing }),
  };
}

function loadTracingConfig(flags: LlmServeFlags, trackingUri: string | undefined): LlmTracingConfig | undefined {
  const experiment = flags.traceExperiment?.trim();
  if (experiment === undefined || experiment === "") {
    if (flags.traceExperiment !== undefined) throw new LlmServeConfigError("--trace-experiment: give a name or an id");
    if (flags.traceSampleRate !== undefined) {
      throw new LlmServeConfigError("--trace-sample-rate: needs --trace-experiment");
    }
    return undefined;
  }
  if (trackingUri === undefined || trackingUri === "") {
    throw new LlmServeConfigError(
      "--trace-experiment: needs the tracking server (--tracking-uri URL, or SLIPWAY_TRACKING_URI)",
    );
  }
  if (!/^https?:\/\/[^\s]+$/i.test(trackingUri)) {
    throw new LlmServeConfigError(`--tracking-uri: '${trackingUri}' is not an http(s) URL`);
  }
  let sampleRate = 1;
  if (flags.traceSampleRate !== undefined) {
    const text = flags.traceSampleRate.trim();
    sampleRate = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text) ? Number(text) : NaN;
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw new LlmServeConfigError(`--trace-sample-rate: '${flags.traceSampleRate}' is not a number from 0 to 1`);
    }
  }
  return { experiment, trackingUri, sampleRate };
}
