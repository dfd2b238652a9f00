/** Test support: a migrated database of each kind, with a temporary directory beside it, and its cleanup. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { upgrade } from "../platform/db/migrate.js";
import { PostgresDb } from "../platform/db/postgres-db.js";
import type { SqlDb } from "../platform/db/sql-db.js";
import { SqliteDb } from "../platform/db/sqlite-db.js";
import { createTempDatabase } from "./postgres.js";

export interface TestDatabase {
  db: SqlDb;
  /** A temporary directory for the test's files (artifacts, ...), removed by `cleanup`. */
  dir: string;
  cleanup(): Promise<void>;
}

export async function openSqliteTestDatabase(prefix = "slipway-test-"): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const db = SqliteDb.open(join(dir, "slipway.db"));
  await upgrade(db);
  return {
    db,
    dir,
    async cleanup() {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh PostgreSQL database on the machine's server, or the reason none is reachable. */
export async function openPostgresTestDatabase(prefix = "slipway-test-"): Promise<TestDatabase | { skip: string }> {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const db = await PostgresDb.open(temp.url);
  await upgrade(db);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    db,
    dir,
    async cleanup() {
      await db.close();
      await temp.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
