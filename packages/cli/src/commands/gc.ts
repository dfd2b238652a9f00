import type { Command } from "commander";
import { defaultStoreUri, openArtifactRepository, openStore, TrackingService } from "@slipway/server";
import { parseDuration } from "../errors.js";
import { stdoutOutput } from "../output.js";
import { resolve } from "node:path";

export function registerGc(program: Command): void {
  program
    .command("gc")
    .description("Permanently delete soft-deleted runs and experiments, with their artifacts")
    .option("--backend-store-uri <uri>", "database (env SLIPWAY_BACKEND_STORE_URI; default ./slipway-data/slipway.db)")
    .option(
      "--artifacts-destination <uri>",
      "artifact root the server proxies (env SLIPWAY_ARTIFACTS_DESTINATION; default ./slipway-data/artifacts)",
    )
    .option("--older-than <duration>", "only what was deleted at least this long ago (e.g. 30d, 12h)")
    .option("--run-ids <ids>", "comma-separated run ids (must be deleted) instead of all deleted runs")
    .option("--experiment-ids <ids>", "comma-separated experiment ids (must be deleted)")
    .option("--json", "machine-readable output")
    .action(
      async (flags: {
        backendStoreUri?: string;
        artifactsDestination?: string;
        olderThan?: string;
        runIds?: string;
        experimentIds?: string;
        json?: boolean;
      }) => {
        const uri = flags.backendStoreUri ?? process.env.SLIPWAY_BACKEND_STORE_URI ?? defaultStoreUri();
        const dest =
          flags.artifactsDestination ??
          process.env.SLIPWAY_ARTIFACTS_DESTINATION ??
          resolve("slipway-data", "artifacts");
        const olderThanMs = flags.olderThan !== undefined ? parseDuration(flags.olderThan, "--older-than") : 0;
        const db = await openStore(uri, { autoUpgradeEmpty: false });
        try {
          const artifacts = await openArtifactRepository(dest);
          const service = new TrackingService({ db, artifacts });
          const split = (s: string | undefined) =>
            s === undefined
              ? undefined
              : s
                  .split(",")
                  .map((x) => x.trim())
                  .filter(Boolean);
          const runIds = split(flags.runIds);
          const experimentIds = split(flags.experimentIds);
          const result = await service.garbageCollect({
            olderThanMs,
            ...(runIds ? { runIds } : {}),
            ...(experimentIds ? { experimentIds } : {}),
          });
          const out = stdoutOutput(flags.json === true);
          if (out.json) out.write(JSON.stringify(result));
          else
            out.write(
              `Deleted ${result.runs.length} run(s) and ${result.experiments.length} experiment(s) permanently.`,
            );
        } finally {
          await db.close();
        }
      },
    );
}
