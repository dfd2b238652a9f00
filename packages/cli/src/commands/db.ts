import type { Command } from "commander";
import { defaultStoreUri, openDb, redact, schemaStatus, upgrade } from "@slipway/server";
import { stdoutOutput } from "../output.js";

export function registerDb(program: Command): void {
  const db = program.command("db").description("Database schema maintenance");
  db.command("upgrade")
    .description("Apply pending schema migrations (creates the schema on an empty database)")
    .option(
      "--backend-store-uri <uri>",
      "database to upgrade (env SLIPWAY_BACKEND_STORE_URI; default ./slipway-data/slipway.db)",
    )
    .option("--json", "machine-readable output")
    .action(async (flags: { backendStoreUri?: string; json?: boolean }) => {
      const uri = flags.backendStoreUri ?? process.env.SLIPWAY_BACKEND_STORE_URI ?? defaultStoreUri();
      const out = stdoutOutput(flags.json === true);
      const handle = await openDb(uri);
      try {
        const before = await schemaStatus(handle);
        if (before.current > before.latest) {
          throw new Error(
            `the database is at schema version ${before.current}, newer than this Slipway knows (${before.latest})`,
          );
        }
        const applied = await upgrade(handle);
        const after = await schemaStatus(handle);
        if (out.json)
          out.write(
            JSON.stringify({
              from: before.current,
              to: after.current,
              applied: applied.map((m) => `${m.version}_${m.name}`),
            }),
          );
        else if (applied.length === 0) out.write(`${redact(uri)}: schema is current (version ${after.current})`);
        else
          out.write(
            `${redact(uri)}: upgraded schema ${before.current} → ${after.current} (${applied.map((m) => `${m.version}_${m.name}`).join(", ")})`,
          );
      } finally {
        await handle.close();
      }
    });
}
