/** Test support: a real Slipway server on a free port with a fresh SQLite store and artifact directory. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../main-server.js";
import type { WebhookDispatcherOptions } from "../modules/registry/webhooks.js";
import { loadServerConfig } from "../platform/config.js";

export interface TestServer extends RunningServer {
  dir: string;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: { backendStoreUri?: string; webhooks?: WebhookDispatcherOptions } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-server-"));
  const config = loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: options.backendStoreUri ?? `sqlite:///${join(dir, "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
    },
    {},
  );
  const server = await startServer(config, { webhooks: options.webhooks });
  return {
    ...server,
    dir,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
