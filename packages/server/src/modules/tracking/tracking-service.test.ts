import { join } from "node:path";
import { LocalArtifactRepository } from "../../artifacts/local.js";
import { openPostgresTestDatabase, openSqliteTestDatabase, type TestDatabase } from "../../testing/databases.js";
import { trackingContract } from "./tracking-store.contract.js";
import { TrackingService } from "./tracking-service.js";

function subject(t: TestDatabase) {
  return {
    api: new TrackingService({ db: t.db, artifacts: new LocalArtifactRepository(join(t.dir, "artifacts")) }),
    cleanup: () => t.cleanup(),
  };
}

trackingContract("SQL service on SQLite", async () => subject(await openSqliteTestDatabase("slipway-sqlite-")));

trackingContract("SQL service on PostgreSQL", async () => {
  const t = await openPostgresTestDatabase("slipway-pg-");
  return "skip" in t ? t : subject(t);
});
