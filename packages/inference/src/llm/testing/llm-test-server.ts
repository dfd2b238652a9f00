/**
 * Test support: the tiny random-weight model written into a temporary directory, and a real LLM server
 * (the same wiring as `slipway llm serve`) on a free port with small, fast settings: one thread (the
 * machine is small and shared), a short context, few sequences.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { makeTestModel } from "../gguf/test-model.js";
import { loadLlmServeConfig } from "../llm-serve-config.js";
import type { LlamaCppProvider } from "../llama/llama-provider.js";
import { openLlama, serveLlm, type LlmServing } from "../serve-llm.js";

export interface TinyModel {
  path: string;
  remove(): Promise<void>;
}

export async function writeTinyModel(seed = 1): Promise<TinyModel> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-llm-"));
  const path = join(dir, "tiny.gguf");
  await makeTestModel({ out: path, shape: "tiny", seed });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface LlmTestServerOptions {
  /** Served as model `tiny`. */
  modelPath: string;
  parallel?: number;
  contextSize?: number;
  queueCapacity?: number;
  llama?: Llama;
}

export interface LlmTestServer {
  url: string;
  /** The `baseURL` for OpenAI clients. */
  baseURL: string;
  provider: LlamaCppProvider;
  serving: LlmServing;
  close(): Promise<void>;
}

export async function startLlmTestServer(options: LlmTestServerOptions): Promise<LlmTestServer> {
  const llama = options.llama ?? (await openLlama({ gpu: false, logLevel: "error" }));
  const config = loadLlmServeConfig({
    model: [`tiny=${options.modelPath}`],
    port: "0",
    threads: "1",
    parallel: String(options.parallel ?? 2),
    contextSize: String(options.contextSize ?? 512),
    ...(options.queueCapacity === undefined ? {} : { queueCapacity: String(options.queueCapacity) }),
  });
  const serving = await serveLlm({ config, llama });
  return {
    url: serving.server.url,
    baseURL: `${serving.server.url}/v1`,
    provider: serving.providers[0]!,
    serving,
    close: () => serving.server.close({ graceMs: 1000 }),
  };
}

/** Polls `check` until it holds or `timeoutMs` passes (for state that settles after a response). */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
