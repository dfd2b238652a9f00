/**
 * Wiring for `slipway llm serve` (and tests that want the same server in-process): load llama.cpp
 * once, open one provider per embedded model and one per upstream model name, wrap the names that have
 * fallbacks, route names to them, listen. Nothing here is global: the caller owns what it gets back
 * and closes it.
 */
import type { FastifyServerOptions } from "fastify";
import type { Llama, LlamaLogLevel } from "node-llama-cpp";
import { Registry } from "prom-client";
import type { LlmProvider } from "./engine/llm-provider.js";
import { loadNodeLlamaCpp } from "./llama/node-llama-cpp.js";
import type { LlmServeConfig } from "./llm-serve-config.js";
import { LlamaCppProvider } from "./llama/llama-provider.js";
import { ModelRouter } from "./server/model-router.js";
import { startLlmServer, type RunningLlmServer } from "./server/llm-server.js";
import { FallbackProvider } from "./upstream/fallback-provider.js";
import { UpstreamMetrics } from "./upstream/upstream-metrics.js";
import { UpstreamProvider, type RouteLog } from "./upstream/upstream-provider.js";
import type { DataPlaneAuth } from "../auth/data-plane-auth.js";
import { RateLimiter } from "./keys/rate-limiter.js";
import { UsageLedger } from "./keys/usage-ledger.js";
import { LlmAccess } from "./server/llm-access.js";
import { VllmMetrics } from "./server/vllm-metrics.js";
import { TrackingClient } from "@slipway/sdk";
import { LlmTracer } from "./traces/llm-trace.js";
import { TraceExporter } from "./traces/trace-exporter.js";
import { resolveGguf } from "./registry/resolve-gguf.js";

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
  /** Needed when the config has embedded models (`--model`). */
  llama?: Llama;
  /** Progress lines (`loading qwen from ./model.gguf`). */
  onProgress?: (line: string) => void;
  /** The HTTP server's logger (default: none). */
  logger?: FastifyServerOptions["logger"];
  /** Authenticates callers (`--api-keys`, `--auth control-plane`); absent: no auth. */
  auth?: DataPlaneAuth;
  /** The rate limits' window (default one minute; tests shorten it). */
  rateWindowMs?: number;
  /** Resolves `--model` URIs (`models:/qwen@prod`, `runs:/…`); absent: only local files and packages. */
  trackingClient?: TrackingClient;
  /** The model cache for downloaded packages (default: the SDK's). */
  modelCacheDir?: string;
  /** Where the trace exporter reports failures (default: standard error). */
  onTraceReport?: (line: string) => void;
}

export interface LlmServing {
  server: RunningLlmServer;
  router: ModelRouter;
  providers: LlamaCppProvider[];
  /** One per model name served by upstream targets. */
  upstreams: UpstreamProvider[];
  /** What `/metrics` shows. */
  metrics: Registry;
  /** Keys, limits and usage (`usage.ledger`). */
  access: LlmAccess;
  /** Sends request traces (`--trace-experiment`); flushed by `server.close()`. */
  traces?: TraceExporter;
}

/** Retries of one trace send: short, so that a trace dropped for a down tracking server does not wait long. */
const TRACE_SEND_RETRY = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5000, maxRetryAfterMs: 30_000 };
const TRACE_SEND_TIMEOUT_MS = 10_000;

export async function serveLlm(options: ServeLlmOptions): Promise<LlmServing> {
  const { config, llama } = options;
  const router = new ModelRouter();
  const providers: LlamaCppProvider[] = [];
  const upstreams: UpstreamProvider[] = [];
  const metrics = new Registry();
  const upstreamMetrics = new UpstreamMetrics(metrics);
  const traces =
    config.tracing === undefined
      ? undefined
      : new TraceExporter({
          // credentials as every client finds them (MLFLOW_TRACKING_TOKEN, SLIPWAY_TRACKING_TOKEN, ...)
          client: new TrackingClient({
            trackingUri: config.tracing.trackingUri,
            retry: TRACE_SEND_RETRY,
            timeoutMs: TRACE_SEND_TIMEOUT_MS,
          }),
          experiment: config.tracing.experiment,
          metrics,
          ...(options.onTraceReport === undefined ? {} : { onReport: options.onTraceReport }),
        });
  const access = new LlmAccess({
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    limiter: new RateLimiter(options.rateWindowMs === undefined ? {} : { windowMs: options.rateWindowMs }),
    ledger: new UsageLedger(metrics),
    vllm: new VllmMetrics(metrics, () =>
      router.models().map(({ card, provider }) => ({ model: card.id, load: provider.load() })),
    ),
    ...(traces === undefined ? {} : { tracer: new LlmTracer(traces, config.tracing?.sampleRate) }),
  });
  // routing decisions go to the server's log once it exists
  let log: RouteLog = () => {};
  const routeLog: RouteLog = (level, message, record) => log(level, message, record);
  try {
    const own = new Map<string, LlmProvider>();
    for (const source of config.models) {
      if (!llama) throw new Error("serveLlm: embedded models need a llama (openLlama)");
      const started = performance.now();
      const resolved = await resolveGguf(source.path, {
        ...(options.trackingClient === undefined ? {} : { client: options.trackingClient }),
        ...(options.modelCacheDir === undefined ? {} : { cacheDir: options.modelCacheDir }),
      });
      options.onProgress?.(`loading ${source.name} from ${resolved.description}`);
      const provider = await LlamaCppProvider.open({
        llama,
        name: source.name,
        modelPath: resolved.path,
        parallel: config.parallel,
        queueCapacity: config.queueCapacity,
        ...(config.contextSize === undefined ? {} : { contextSize: config.contextSize }),
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
      });
      providers.push(provider);
      own.set(source.name, provider);
      options.onProgress?.(
        `loaded ${source.name} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
          `(context ${provider.contextSize} tokens × ${config.parallel} sequences)`,
      );
    }
    for (const route of config.routing.routes) {
      if (route.targets.length === 0) continue;
      const upstream = new UpstreamProvider({ route, metrics: upstreamMetrics, log: routeLog });
      upstreams.push(upstream);
      own.set(route.name, upstream);
      options.onProgress?.(
        `routing ${route.name} to ${route.targets.map((t) => (t.weight === 1 ? t.url : `${t.url} (weight ${t.weight})`)).join(", ")}` +
          (route.fallback.length > 0 ? `; fallback ${route.fallback.join(", ")}` : ""),
      );
    }
    for (const [name, provider] of own) {
      const route = config.routing.routes.find((r) => r.name === name);
      if (!route || route.fallback.length === 0) {
        router.add(provider);
        continue;
      }
      if (route.targets.length === 0) options.onProgress?.(`${name} falls back to ${route.fallback.join(", ")}`);
      router.add(
        new FallbackProvider({
          name,
          primary: provider,
          fallbacks: route.fallback.map((f) => ({ name: f, provider: own.get(f)! })),
          on: route.fallbackOn,
          metrics: upstreamMetrics,
          log: routeLog,
        }),
      );
    }
    const server = await startLlmServer({
      router,
      host: config.host,
      port: config.port,
      metrics,
      access,
      ...(config.bodyLimit === undefined ? {} : { bodyLimit: config.bodyLimit }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    log = (level, message, record) => server.app.log[level](record, message);
    for (const upstream of upstreams) upstream.open();
    // shutting the server down (SIGTERM) flushes the traces of the requests it finished
    const serving: RunningLlmServer =
      traces === undefined
        ? server
        : {
            url: server.url,
            app: server.app,
            close: async (closeOptions) => {
              await server.close(closeOptions);
              await traces.close();
            },
          };
    return { server: serving, router, providers, upstreams, metrics, access, ...(traces ? { traces } : {}) };
  } catch (error) {
    await traces?.close(0);
    await router.close();
    await Promise.allSettled([...providers, ...upstreams].map((p) => p.close()));
    throw error;
  }
}
