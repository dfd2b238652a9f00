import type { Command } from "commander";
import { loadServerConfig, redact, startServer, type ServerFlags } from "@slipway/server";

export function registerServer(program: Command): void {
  program
    .command("server")
    .description("Start the tracking server (MLflow-compatible REST API, artifact proxy, /metrics)")
    .option("--host <host>", "address to bind (env SLIPWAY_HOST)", undefined)
    .option("--port <port>", "port to listen on (env SLIPWAY_PORT)", undefined)
    .option(
      "--backend-store-uri <uri>",
      "sqlite:///path.db or postgresql://... (env SLIPWAY_BACKEND_STORE_URI; default ./slipway-data/slipway.db)",
    )
    .option(
      "--artifacts-destination <uri>",
      "local path, file:///path or s3://bucket/prefix (env SLIPWAY_ARTIFACTS_DESTINATION; default ./slipway-data/artifacts)",
    )
    .option(
      "--s3-endpoint-url <url>",
      "endpoint of an S3-compatible store (env SLIPWAY_S3_ENDPOINT_URL, MLFLOW_S3_ENDPOINT_URL or AWS_ENDPOINT_URL)",
    )
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (env SLIPWAY_LOG_LEVEL; default warn)")
    .option("--ui-dir <dir>", "serve this web UI bundle at / instead of the installed one (env SLIPWAY_UI_DIR)")
    .option(
      "--no-monitor-scheduler",
      "do not run monitors on their schedules in this process (env SLIPWAY_MONITOR_SCHEDULER=false)",
    )
    .action(async (flags: ServerFlags, command: Command) => {
      // commander defaults a --no-* flag to true: leave it to the environment unless it was given
      if (command.getOptionValueSource("monitorScheduler") === "default") delete flags.monitorScheduler;
      const config = loadServerConfig(flags);
      const server = await startServer(config);
      process.stdout.write(
        `Slipway tracking server listening on ${server.url}\n  backend store: ${redact(config.backendStoreUri)}\n  artifacts:     ${config.artifactsDestination}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stdout.write(`\n${signal}: finishing in-flight requests and shutting down\n`);
          server.close().then(resolve, (error: unknown) => {
            process.stderr.write(`error while shutting down: ${String(error)}\n`);
            resolve();
          });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
