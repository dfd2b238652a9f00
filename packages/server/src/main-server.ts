/** Wires the control plane: config → database → artifact store → services → HTTP. */
import type { FastifyInstance } from "fastify";
import { openArtifactRepository } from "./artifacts/registry.js";
import type { ArtifactRepository } from "./artifacts/artifact-repository.js";
import { TrackingService } from "./modules/tracking/tracking-service.js";
import { RegistryService } from "./modules/registry/registry-service.js";
import { RegistryEvents } from "./modules/registry/registry-events.js";
import { WebhookDispatcher, WebhookService, type WebhookDispatcherOptions } from "./modules/registry/webhooks.js";
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
  options: { webhooks?: WebhookDispatcherOptions } = {},
): Promise<RunningServer> {
  const db = await openStore(config.backendStoreUri, { autoUpgradeEmpty: true });
  try {
    const artifacts = await openArtifactRepository(config.artifactsDestination, { s3: config.s3 });
    const metrics = createHttpMetrics();
    db.timings.observer = (op, seconds) => metrics.dbSeconds.observe({ op }, seconds);
    const tracking = new TrackingService({ db, artifacts });
    const events = new RegistryEvents();
    const registry = new RegistryService({ db, events });
    const app = await buildApp({
      tracking,
      registry,
      webhooks: new WebhookService(db),
      artifacts,
      metrics,
      version: slipwayVersion(),
      logger: config.logLevel === "silent" ? false : { level: config.logLevel },
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const webhooks = new WebhookDispatcher({ db, events, ...options.webhooks });
    webhooks.start();
    const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
    let closed = false;
    return {
      app,
      db,
      artifacts,
      tracking,
      url: `http://${hostForUrl}:${port}`,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await webhooks.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
