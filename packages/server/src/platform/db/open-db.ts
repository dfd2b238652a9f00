import { resolve } from "node:path";
import { MlflowError } from "@slipway/protocol";
import type { SqlDb } from "./sql-db.js";

/** Parses a backend-store URI: `sqlite:///relative/or/absolute.db`, `sqlite:///:memory:`, `postgresql://...`. */
export function parseStoreUri(uri: string): { kind: "sqlite"; path: string } | { kind: "postgres"; url: string } {
  if (uri.startsWith("sqlite://")) {
    // MLflow/SQLAlchemy: sqlite:///rel/path.db is relative, sqlite:////abs/path.db is absolute
    const rest = uri.slice("sqlite://".length);
    if (!rest.startsWith("/"))
      throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid SQLite URI '${uri}': expected sqlite:///path`);
    const path = rest.slice(1);
    if (path === "") throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid SQLite URI '${uri}': no database path`);
    return { kind: "sqlite", path: path === ":memory:" ? path : resolve(path) };
  }
  if (uri.startsWith("postgresql://") || uri.startsWith("postgres://") || uri.startsWith("postgresql+psycopg2://")) {
    return { kind: "postgres", url: uri.replace(/^postgresql\+psycopg2:/, "postgresql:") };
  }
  throw new MlflowError(
    "INVALID_PARAMETER_VALUE",
    `Unsupported backend store URI '${uri}': use sqlite:///path/to/file.db or postgresql://user@host:port/db`,
  );
}

/** Opens the store; each driver is loaded only when its kind of database is used. */
export async function openDb(uri: string): Promise<SqlDb> {
  const parsed = parseStoreUri(uri);
  if (parsed.kind === "sqlite") {
    const { SqliteDb } = await import("./sqlite-db.js");
    return SqliteDb.open(parsed.path);
  }
  const { PostgresDb } = await import("./postgres-db.js");
  return PostgresDb.open(parsed.url);
}
