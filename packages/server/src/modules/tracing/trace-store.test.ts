/** The tracing contract on each database the SQL store supports (PostgreSQL skipped, with the reason, when absent). */
import { join } from "node:path";
import { openArtifactRepository } from "../../artifacts/registry.js";
import { openPostgresTestDatabase, openSqliteTestDatabase, type TestDatabase } from "../../testing/databases.js";
import { tracingContract } from "./tracing.contract.js";

async function withArtifacts(made: TestDatabase | { skip: string }) {
  if ("skip" in made) return made;
  return { ...made, artifacts: await openArtifactRepository(join(made.dir, "artifacts")) };
}

tracingContract("SQL store on SQLite", async () => withArtifacts(await openSqliteTestDatabase("slipway-traces-")));

tracingContract("SQL store on PostgreSQL", async () =>
  withArtifacts(await openPostgresTestDatabase("slipway-traces-")),
);
