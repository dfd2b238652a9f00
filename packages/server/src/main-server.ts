/** Wires the control plane: config → database → artifact store → services → HTTP. */
import type { FastifyInstance } from "fastify";
import { openArtifactRepository } from "./artifacts/registry.js";
import type { ArtifactRepository } from "./artifacts/artifact-repository.js";
import { TrackingService } from "./modules/tracking/tracking-service.js";
import { TraceService } from "./modules/tracing/trace-service.js";
import { RegistryService } from "./modules/registry/registry-service.js";
import { RegistryEvents } from "./modules/registry/registry-events.js";
import { WebhookDispatcher, WebhookService, type WebhookDispatcherOptions } from "./modules/registry/webhooks.js";
import { InferenceLogService } from "./modules/monitoring/inference-log-service.js";
import { AlertDispatcher, type AlertDispatcherOptions } from "./modules/monitoring/alert-dispatcher.js";
import { registerMonitorMetrics } from "./modules/monitoring/monitor-gauges.js";
import { MonitorScheduler, type MonitorSchedulerOptions } from "./modules/monitoring/monitor-scheduler.js";
import { MonitorService } from "./modules/monitoring/monitor-service.js";
import { DeploymentController } from "./modules/deployments/deployment-controller.js";
import { DeploymentService } from "./modules/deployments/deployment-service.js";
import { AuthService, type AuthServiceOptions } from "./modules/auth/auth-service.js";
import { OidcDiscoveryError } from "./modules/auth/oidc-discovery.js";
import { OidcRelyingParty } from "./modules/auth/oidc-relying-party.js";
import { schemaStatus, upgrade } from "./platform/db/migrate.js";
import { openDb } from "./platform/db/open-db.js";
import type { SqlDb } from "./platform/db/sql-db.js";
import type { ServerConfig } from "./platform/config.js";
import { ConfigError } from "./platform/config.js";
import { buildApp } from "./platform/http/app.js";
import { createHttpMetrics } from "./platform/http/metrics.js";
import { slipwayVersion } from "./platform/version.js";

export interface RunningServer {
  app: FastifyInstance;
  db: SqlDb;
  artifacts: ArtifactRepository;
  tracking: TrackingService;
  /** MLflow Tracing: traces and their spans. */
  traces: TraceService;
  inferenceLog: InferenceLogService;
  monitors: MonitorService;
  /** Runs scheduled monitor evaluations (started unless `monitorScheduler` is off). */
  scheduler: MonitorScheduler;
  deployments: DeploymentService;
  /** Steps, promotes and rolls back canaries. */
  deploymentController: DeploymentController;
  /** Users, tokens, sessions and permissions: present when the server runs with `--auth`. */
  auth?: AuthService;
  /** http://host:port the server listens on. */
  url: string;
  close(): Promise<void>;
}

/** Opens the database and makes sure its schema is the one this build knows. */
export async function openStore(uri: string, options: { autoUpgradeEmpty: boolean }): Promise<SqlDb> {
  const db = await openDb(uri);
  try {
    const status = await schemaStatus(db);
    if (status.current > status.latest) {
      throw new ConfigError(
        `The database at ${redact(uri)} has schema version ${status.current}, newer than this Slipway knows (${status.latest}). Upgrade Slipway.`,
      );
    }
    if (status.pending.length > 0) {
      if (status.current === 0 && options.autoUpgradeEmpty) await upgrade(db);
      else {
        throw new ConfigError(
          `The database at ${redact(uri)} is at schema version ${status.current}; this Slipway needs ${status.latest}. Run: slipway db upgrade --backend-store-uri '${redact(uri)}'`,
        );
      }
    }
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

export function redact(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

export async function startServer(
  config: ServerConfig,
  options: {
    webhooks?: WebhookDispatcherOptions;
    monitors?: { scheduler?: MonitorSchedulerOptions; alerts?: AlertDispatcherOptions; maxRows?: number };
    /** `tickMs`: how often the canary controller looks at deployments (default 500 ms). */
    deployments?: { tickMs?: number };
    /** Tuning of authentication (lockout, limits, hashing cost) when `config.auth` is on. */
    auth?: Omit<AuthServiceOptions, "db" | "defaultPermission">;
  } = {},
): Promise<RunningServer> {
  const db = await openStore(config.backendStoreUri, { autoUpgradeEmpty: true });
  try {
    const artifacts = await openArtifactRepository(config.artifactsDestination, { s3: config.s3 });
    const metrics = createHttpMetrics();
    db.timings.observer = (op, seconds) => metrics.dbSeconds.observe({ op }, seconds);
    const tracking = new TrackingService({ db, artifacts });
    const traces = new TraceService({ db, tracking, artifacts });
    const events = new RegistryEvents();
    const registry = new RegistryService({ db, events });
    const inferenceLog = new InferenceLogService({ db });
    let log: (message: string, error: unknown) => void = () => undefined;
    const monitors: MonitorService = new MonitorService({
      db,
      inferenceLog,
      registry,
      tracking,
      artifacts,
      openRepository: (uri) => openArtifactRepository(uri, { s3: config.s3 }),
      metrics: registerMonitorMetrics(metrics.registry, () => monitors.gaugeRows()),
      ...(options.monitors?.maxRows === undefined ? {} : { maxRows: options.monitors.maxRows }),
      log: (message, error) => log(message, error),
    });
    const deployments = new DeploymentService({ db, registry, log: (message, error) => log(message, error) });
    const auth =
      config.auth || config.bootstrapAdmin
        ? new AuthService({ ...options.auth, db, defaultPermission: config.defaultPermission ?? "READ" })
        : undefined;
    if (auth && config.bootstrapAdmin) {
      await auth.ensureAdmin(config.bootstrapAdmin.username, config.bootstrapAdmin.password);
    }
    let oidc: OidcRelyingParty | undefined;
    if (auth && config.auth && config.oidc) {
      try {
        oidc = await OidcRelyingParty.open(config.oidc, auth);
      } catch (error) {
        if (!(error instanceof OidcDiscoveryError)) throw error;
        throw new ConfigError(`--oidc-issuer: ${error.message}`, { cause: error });
      }
    }
    const app = await buildApp({
      tracking,
      registry,
      webhooks: new WebhookService(db),
      inferenceLog,
      monitors,
      deployments,
      traces,
      artifacts,
      metrics,
      version: slipwayVersion(),
      logger: config.logLevel === "silent" ? false : { level: config.logLevel },
      ...(config.uiDir === undefined ? {} : { uiDir: config.uiDir }),
      ...(auth && config.auth ? { auth, db } : {}),
      ...(oidc ? { oidc } : {}),
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const webhooks = new WebhookDispatcher({ db, events, ...options.webhooks });
    webhooks.start();
    log = (message, error) => app.log.error({ err: error }, message);
    const alerts = new AlertDispatcher({ db, ...options.monitors?.alerts });
    monitors.onAlert(() => alerts.wake());
    alerts.start();
    const scheduler = new MonitorScheduler({ monitors, log, ...options.monitors?.scheduler });
    if (config.monitorScheduler) scheduler.start();
    const deploymentController = new DeploymentController({
      deployments,
      log,
      ...(options.deployments?.tickMs === undefined ? {} : { tickMs: options.deployments.tickMs }),
    });
    deploymentController.start();
    const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
    let closed = false;
    return {
      app,
      db,
      artifacts,
      tracking,
      traces,
      inferenceLog,
      monitors,
      scheduler,
      deployments,
      deploymentController,
      ...(auth && config.auth ? { auth } : {}),
      url: `http://${hostForUrl}:${port}`,
      async close() {
        if (closed) return;
        closed = true;
        await scheduler.stop();
        await deploymentController.stop();
        await app.close();
        await webhooks.stop();
        await alerts.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
