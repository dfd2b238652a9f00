/** A server in its own process for crash tests: `node server-process.js DIR` (SQLite in DIR, port 0). */
import { join } from "node:path";
import { startServer } from "../main-server.js";
import { loadServerConfig } from "../platform/config.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: server-process DIR");
const server = await startServer(
  loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
    },
    {},
  ),
);
process.stdout.write(`listening on ${server.url}\n`);
process.once("SIGTERM", () => void server.close().then(() => process.exit(0)));
