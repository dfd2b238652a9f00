import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import {
  ConfigError,
  loadServerConfig,
  redact,
  serverSettingsFromFile,
  startServer,
  type ServerFlags,
} from "@slipway/server";

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
    .option(
      "--public-url <url>",
      "the URL people open the server at, e.g. https://slipway.example.com (env SLIPWAY_PUBLIC_URL)",
    )
    .option(
      "--oidc-issuer <url>",
      "single sign-on: the OpenID Connect provider's issuer URL; needs --auth (env SLIPWAY_OIDC_ISSUER)",
    )
    .option(
      "--oidc-client-id <id>",
      "single sign-on: the client id registered at the provider (env SLIPWAY_OIDC_CLIENT_ID)",
    )
    .option(
      "--oidc-client-secret <secret>",
      "single sign-on: the client secret; prefer env SLIPWAY_OIDC_CLIENT_SECRET (flags show in process lists)",
    )
    .option(
      "--oidc-redirect-url <url>",
      "single sign-on: the redirect URI registered at the provider (env SLIPWAY_OIDC_REDIRECT_URL; default <public url>/api/2.0/slipway/auth/oidc/callback)",
    )
    .option(
      "--oidc-scopes <scopes>",
      "single sign-on: scopes to request (env SLIPWAY_OIDC_SCOPES; default 'openid profile email', plus 'groups' when offered)",
    )
    .option(
      "--oidc-groups-claim <claim>",
      "single sign-on: the claim listing a user's groups (env SLIPWAY_OIDC_GROUPS_CLAIM; default groups)",
    )
    .option(
      "--oidc-admin-groups <a,b>",
      "single sign-on: members of these groups are admins (env SLIPWAY_OIDC_ADMIN_GROUPS)",
    )
    .option(
      "--oidc-allowed-groups <a,b>",
      "single sign-on: only members of these groups (or admin groups) may sign in (env SLIPWAY_OIDC_ALLOWED_GROUPS)",
    )
    .option("--auth", "require authentication on every request (env SLIPWAY_AUTH=true); see docs/auth.md")
    .option(
      "--config <file>",
      "read settings from this project file's server: section (default: ./slipway.yaml when it has one); flags and SLIPWAY_* variables win",
    )
    .option(
      "--default-permission <permission>",
      "with --auth: READ|EDIT|MANAGE|NO_PERMISSIONS where none is recorded (env SLIPWAY_DEFAULT_PERMISSION; default READ)",
    )
    .option(
      "--insecure-no-auth",
      "allow binding a non-loopback --host without --auth (only behind something that authenticates requests)",
    )
    .action(async (flags: ServerFlags, command: Command) => {
      // commander defaults a --no-* flag to true: leave it to the environment unless it was given
      if (command.getOptionValueSource("monitorScheduler") === "default") delete flags.monitorScheduler;
      const file = await projectFile(command.getOptionValue("config") as string | undefined);
      const config = loadServerConfig(flags, { ...file.env, ...process.env });
      const server = await startServer(config);
      process.stdout.write(
        `Slipway tracking server listening on ${server.url}\n  backend store: ${redact(config.backendStoreUri)}\n  artifacts:     ${config.artifactsDestination}\n` +
          `  auth:          ${config.auth ? `on (default permission ${config.defaultPermission ?? "READ"})` : "off"}\n` +
          (file.path === undefined
            ? ""
            : `  settings:      ${file.path} (server:), below flags and SLIPWAY_* variables\n`),
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

/** The project file's `server:` settings, as SLIPWAY_* variables: `--config FILE`, or ./slipway.yaml if present. */
async function projectFile(given: string | undefined): Promise<{ path?: string; env: Record<string, string> }> {
  const path = given ?? "slipway.yaml";
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch (error) {
    if (given === undefined && (error as NodeJS.ErrnoException).code === "ENOENT") return { env: {} };
    throw new ConfigError(`--config: cannot read '${path}': ${(error as Error).message}`);
  }
  const env = serverSettingsFromFile(source, path);
  return Object.keys(env).length === 0 && given === undefined ? { env } : { path, env };
}
