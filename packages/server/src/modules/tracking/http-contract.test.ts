/** The tracking contract through HTTP: the SDK's REST client against a live server (MLflow compatibility). */
import { TrackingClient } from "@slipway/sdk";
import { startTestServer } from "../../testing/server.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { trackingContract } from "./tracking-store.contract.js";

trackingContract("REST API (SDK client) on SQLite", async () => {
  const server = await startTestServer();
  return { api: new TrackingClient({ trackingUri: server.url, maxRetries: 0 }), cleanup: () => server.stop() };
});

trackingContract("REST API (SDK client) on PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const server = await startTestServer({ backendStoreUri: temp.url });
  return {
    api: new TrackingClient({ trackingUri: server.url, maxRetries: 0 }),
    async cleanup() {
      await server.stop();
      await temp.drop();
    },
  };
});
