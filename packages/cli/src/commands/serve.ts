/**
 * `slipway serve URI [URI…]`: a model server for registered models (or runs, or local packages) over
 * MLflow's scoring protocol, KServe V2, SageMaker and Vertex AI. Each URI is resolved through the
 * registry, downloaded into the model cache, loaded by its flavor's predictor and warmed up before the
 * server listens; SIGTERM / SIGINT shut it down gracefully (stop accepting, finish in-flight requests,
 * send the inference log's last records, exit 0). With a tracking server, a sample of the requests
 * (`--log-sample-rate`, default all) goes to its inference log. `--auth control-plane` checks callers
 * against the tracking server (READ on the registered model served); `--api-keys FILE` accepts own keys.
 */
import { hostname } from "node:os";
import type { Command } from "commander";
import {
  AliasFollower,
  DeploymentsClient,
  InferenceLogger,
  InferenceMetrics,
  ModelSet,
  ServeConfigError,
  ServedDeployment,
  builtinPredictors,
  fetchDeployment,
  loadServeConfig,
  loadServedModel,
  loadServedModels,
  openDataPlaneAuth,
  ApiKeysError,
  startModelServer,
  vertexSettings,
  type ServeFlags,
} from "@slipway/inference";
import { TrackingClient, resolveTrackingUri } from "@slipway/sdk";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { cliVersion } from "../version.js";
import { keysFileFormat } from "./llm.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("Serve models over MLflow's scoring protocol, KServe V2, SageMaker and Vertex AI")
    .argument("[uris...]", "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a local package directory")
    .option("--port <port>", "port to listen on (default 8080, or AIP_HTTP_PORT / SAGEMAKER_BIND_TO_PORT)")
    .option("--host <host>", "address to bind (default 127.0.0.1; 0.0.0.0 under Vertex AI or --sagemaker)")
    .option("--name <name>", "serve the model under this name (repeat for several URIs, in order)", collect)
    .option("--max-batch-size <n>", "most rows merged into one predictor call (default 64)")
    .option("--max-batch-wait-us <n>", "how long a request may wait for others to batch with, in µs (default 0)")
    .option("--queue-capacity <n>", "requests that may wait per model; beyond it: 503 with Retry-After (default 1024)")
    .option(
      "--predict-threads <n>",
      "threads that run big batches of JavaScript models, so the server keeps reading requests meanwhile (0: none; default 1)",
    )
    .option("--body-limit <bytes>", "largest request body; beyond it: 413 (default 6291456)")
    .option(
      "--sagemaker",
      "SageMaker mode: 0.0.0.0, port SAGEMAKER_BIND_TO_PORT or 8080, model /opt/ml/model by default",
    )
    .option(
      "--log-sample-rate <r>",
      "fraction of requests logged to the tracking server's inference log, 0 to 1 (default 1 with a tracking server; 0 = off)",
    )
    .option(
      "--log-buffer <n>",
      "inference log records that may wait to be sent; beyond it they are dropped (default 10000)",
    )
    .option(
      "--deployment <name>",
      "follow a deployment of the tracking server (slipway deploy create): its primary, canary and shadow; no URI then",
    )
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option(
      "--auth <mode>",
      "control-plane: callers need READ on the served registered model, checked at --tracking-uri (Basic or Bearer)",
    )
    .option("--api-keys <file>", "also accept API keys from this keys file (slipway llm keys create)")
    .action(async (uris: string[], flags: ServeFlags & ClientFlags & { deployment?: string }) => {
      const trackingUri = flags.trackingUri ?? resolveTrackingUri();
      // --deployment: the deployment names the primary; reports use a client with a short timeout and no retries
      const reports = flags.deployment
        ? new DeploymentsClient(new TrackingClient({ trackingUri, maxRetries: 0 }), { timeoutMs: 5000 })
        : undefined;
      let deployment;
      if (flags.deployment !== undefined && reports) {
        if (uris.length > 0) throw new UsageError("give either model URIs or --deployment, not both");
        deployment = await fetchDeployment(new DeploymentsClient(clientFor(flags)), flags.deployment, trackingUri);
        uris = [deployment.model_uri];
      }
      let config;
      try {
        config = loadServeConfig(uris, flags);
      } catch (error) {
        if (error instanceof ServeConfigError) throw new UsageError(error.message);
        throw error;
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
      const metrics = new InferenceMetrics();
      const client = clientFor(flags);
      const loading = {
        client,
        predictors: builtinPredictors(),
        batching: config.batching,
        hooks: metrics.modelHooks(),
        onProgress: (line: string) => process.stdout.write(`${line}\n`),
        predictThreads: config.predictThreads,
      };
      const loaded = await loadServedModels({ ...loading, uris: config.uris, names: config.names });
      const models = new ModelSet();
      for (const model of loaded) models.add(model);
      let vertex;
      try {
        vertex = vertexSettings(process.env, models.default().name);
      } catch (error) {
        await models.close();
        throw new UsageError((error as Error).message);
      }
      const log = config.inferenceLog;
      const inferenceLog = log
        ? new InferenceLogger({
            endpoint: log.endpoint,
            sampleRate: log.sampleRate,
            maxBuffer: log.maxBuffer,
            server: hostname(),
            metrics,
            onReport: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
          })
        : undefined;
      const served =
        deployment && reports
          ? new ServedDeployment({
              api: reports,
              deployment,
              models,
              servedName: loaded[0]!.name,
              load: (model) => loadServedModel(loading, model),
              metrics,
              onReport: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
            })
          : undefined;
      let server;
      try {
        server = await startModelServer({
          models,
          metrics,
          version: cliVersion(),
          vertex,
          bodyLimit: config.bodyLimit,
          host: config.host,
          port: config.port,
          ...(inferenceLog ? { inferenceLog } : {}),
          ...(served ? { router: served.router } : {}),
          ...(auth ? { auth } : {}),
        });
      } catch (error) {
        await models.close();
        throw error;
      }
      inferenceLog?.start();
      // models served by alias follow it: a move in the registry swaps the new version in without downtime
      const follower = new AliasFollower({
        client,
        trackingUri,
        models,
        metrics,
        load: (model) => loadServedModel(loading, model),
        onReport: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
      });
      follower.start();
      served?.start(`${hostname()}:${new URL(server.url).port}`);
      const names = loaded.map((m) => `${m.name}${m.version === undefined ? "" : ` (version ${m.version})`}`);
      process.stdout.write(
        `Slipway model server listening on ${server.url}\n` +
          `  models:   ${names.join(", ")}\n` +
          `  MLflow / SageMaker: POST /invocations${loaded.length > 1 ? "?model=NAME (or header X-Slipway-Model)" : ""}, GET /ping\n` +
          `  KServe V2:          POST /v2/models/{name}/infer\n` +
          `  Vertex AI:          POST ${vertex.predictRoute}\n` +
          `  metrics: /metrics   API: /openapi.json\n` +
          (auth
            ? `  auth: ${[auth.controlPlane ? "control plane (READ on the model)" : "", auth.keys ? `${auth.keys.size} API keys` : ""].filter((s) => s !== "").join(" + ")}; public: /ping /health /version /v2/health/* /metrics\n`
            : "") +
          (inferenceLog
            ? `  inference log: ${Math.round(inferenceLog.sampleRate * 1e4) / 100}% of requests → ${inferenceLog.endpoint}\n`
            : "") +
          follower
            .describe()
            .map((line) => `  following ${line}\n`)
            .join("") +
          (deployment ? `  deployment: ${deployment.name} (${deployment.strategy})\n` : ""),
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stdout.write(`\n${signal}: finishing in-flight requests and shutting down\n`);
          follower
            .stop()
            .then(() => served?.stop())
            .then(() => server.close())
            .then(() => served?.close())
            // after the server: the last answered requests' records are in the buffer by then
            .then(() => inferenceLog?.close())
            .then(resolve, (error: unknown) => {
              process.stderr.write(`error while shutting down: ${String(error)}\n`);
              resolve();
            });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
