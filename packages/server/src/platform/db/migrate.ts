import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Dialect, SqlDb } from "./sql-db.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_ROOT = fileURLToPath(new URL("../../../migrations/", import.meta.url));
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dialect: Dialect, root = MIGRATIONS_ROOT): Migration[] {
  const dir = `${root}${dialect}`;
  return readdirSync(dir)
    .map((file) => FILE.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2]!, sql: readFileSync(`${dir}/${m[0]}`, "utf8") }))
    .sort((a, b) => a.version - b.version);
}

const TABLE = "slipway_schema_migrations";

async function ensureTable(db: SqlDb): Promise<void> {
  await db.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
  );
}

export async function appliedVersion(db: SqlDb): Promise<number> {
  const exists =
    db.dialect === "sqlite"
      ? await db.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [TABLE])
      : await db.get(
          `SELECT 1 AS x FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()`,
          [TABLE],
        );
  if (!exists) return 0;
  const row = await db.get<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${TABLE}`);
  return row?.v ?? 0;
}

export interface SchemaStatus {
  current: number;
  latest: number;
  pending: Migration[];
}

export async function schemaStatus(db: SqlDb): Promise<SchemaStatus> {
  const all = loadMigrations(db.dialect);
  const current = await appliedVersion(db);
  return { current, latest: all.at(-1)?.version ?? 0, pending: all.filter((m) => m.version > current) };
}

/** Applies every pending migration, each in its own transaction, under a database-wide lock. */
export async function upgrade(db: SqlDb): Promise<Migration[]> {
  await ensureTable(db);
  const applied: Migration[] = [];
  for (const migration of loadMigrations(db.dialect)) {
    const done = await db.transaction(async (tx) => {
      if (tx.dialect === "postgres") await tx.run(`SELECT pg_advisory_xact_lock(7215520411)`);
      const row = await tx.get(`SELECT 1 AS x FROM ${TABLE} WHERE version = ?`, [migration.version]);
      if (row) return false;
      for (const statement of splitStatements(migration.sql)) await tx.run(statement);
      await tx.run(`INSERT INTO ${TABLE} (version, name, applied_at) VALUES (?, ?, ?)`, [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      return true;
    });
    if (done) applied.push(migration);
  }
  return applied;
}

/** Splits a migration file into statements (our migrations keep `;` out of string literals). */
export function splitStatements(sql: string): string[] {
  return sql
    .replace(/^\s*--.*$/gm, "")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
