/**
 * Wiring for `slipway llm serve` (and tests that want the same server in-process): load llama.cpp
 * once, open one provider per model, route names to them, listen. Nothing here is global: the caller
 * owns what it gets back and closes it.
 */
import type { FastifyServerOptions } from "fastify";
import type { Llama, LlamaLogLevel } from "node-llama-cpp";
import { loadNodeLlamaCpp } from "./llama/node-llama-cpp.js";
import type { LlmServeConfig } from "./llm-serve-config.js";
import { LlamaCppProvider } from "./llama/llama-provider.js";
import { ModelRouter } from "./server/model-router.js";
import { startLlmServer, type RunningLlmServer } from "./server/llm-server.js";

export interface OpenLlamaOptions {
  gpu: "auto" | false;
  /** llama.cpp's messages below this level are dropped (default `warn`). */
  logLevel?: `${LlamaLogLevel}`;
}

/** llama.cpp through node-llama-cpp's prebuilt binaries: never builds, never downloads. */
export async function openLlama(options: OpenLlamaOptions): Promise<Llama> {
  const { getLlama } = await loadNodeLlamaCpp();
  return getLlama({
    gpu: options.gpu,
    build: "never",
    skipDownload: true,
    progressLogs: false,
    logLevel: (options.logLevel ?? "warn") as LlamaLogLevel,
  });
}

export interface ServeLlmOptions {
  config: LlmServeConfig;
  llama: Llama;
  /** Progress lines (`loading qwen from ./model.gguf`). */
  onProgress?: (line: string) => void;
  /** The HTTP server's logger (default: none). */
  logger?: FastifyServerOptions["logger"];
}

export interface LlmServing {
  server: RunningLlmServer;
  router: ModelRouter;
  providers: LlamaCppProvider[];
}

export async function serveLlm(options: ServeLlmOptions): Promise<LlmServing> {
  const { config, llama } = options;
  const router = new ModelRouter();
  const providers: LlamaCppProvider[] = [];
  try {
    for (const source of config.models) {
      options.onProgress?.(`loading ${source.name} from ${source.path}`);
      const started = performance.now();
      const provider = await LlamaCppProvider.open({
        llama,
        name: source.name,
        modelPath: source.path,
        parallel: config.parallel,
        queueCapacity: config.queueCapacity,
        ...(config.contextSize === undefined ? {} : { contextSize: config.contextSize }),
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
      });
      providers.push(provider);
      router.add(provider);
      options.onProgress?.(
        `loaded ${source.name} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
          `(context ${provider.contextSize} tokens × ${config.parallel} sequences)`,
      );
    }
    const server = await startLlmServer({
      router,
      host: config.host,
      port: config.port,
      ...(config.bodyLimit === undefined ? {} : { bodyLimit: config.bodyLimit }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    return { server, router, providers };
  } catch (error) {
    await router.close();
    await Promise.allSettled(providers.map((p) => p.close()));
    throw error;
  }
}
