import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalArtifactRepository } from "../../artifacts/local.js";
import { upgrade } from "../../platform/db/migrate.js";
import { PostgresDb } from "../../platform/db/postgres-db.js";
import { SqliteDb } from "../../platform/db/sqlite-db.js";
import type { SqlDb } from "../../platform/db/sql-db.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { trackingContract } from "./tracking-store.contract.js";
import { TrackingService } from "./tracking-service.js";

async function subject(db: SqlDb, onCleanup: () => Promise<void>) {
  await upgrade(db);
  const dir = await mkdtemp(join(tmpdir(), "slipway-artifacts-"));
  const artifacts = new LocalArtifactRepository(dir);
  return {
    api: new TrackingService({ db, artifacts }),
    async cleanup() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
      await onCleanup();
    },
  };
}

trackingContract("SQL service on SQLite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "slipway-sqlite-"));
  return subject(SqliteDb.open(join(dir, "slipway.db")), () => rm(dir, { recursive: true, force: true }));
});

trackingContract("SQL service on PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  return subject(await PostgresDb.open(temp.url), () => temp.drop());
});
