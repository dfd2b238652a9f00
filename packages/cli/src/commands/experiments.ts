import type { Command } from "commander";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { formatTime, stdoutOutput, table } from "../output.js";

const VIEW = ["active", "deleted", "all"] as const;

function viewType(view: string | undefined): "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL" {
  const v = (view ?? "active").toLowerCase();
  if (!VIEW.includes(v as (typeof VIEW)[number]))
    throw new UsageError(`--view: '${view}' is not one of active, deleted, all`);
  return v === "active" ? "ACTIVE_ONLY" : v === "deleted" ? "DELETED_ONLY" : "ALL";
}

export function registerExperiments(program: Command): void {
  const experiments = program.command("experiments").description("List, create and delete experiments");

  experiments
    .command("list")
    .description("List experiments")
    .option("--filter <filter>", "MLflow search filter, e.g. \"name LIKE 'spam%'\"")
    .option("--view <view>", "active | deleted | all", "active")
    .option("--max-results <n>", "at most this many", "1000")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { filter?: string; view?: string; maxResults: string }) => {
      const max = Number(flags.maxResults);
      if (!Number.isInteger(max) || max <= 0)
        throw new UsageError(`--max-results: '${flags.maxResults}' is not a positive integer`);
      const res = await clientFor(flags).searchExperiments({
        max_results: max,
        view_type: viewType(flags.view),
        ...(flags.filter !== undefined ? { filter: flags.filter } : {}),
      });
      const list = res.experiments ?? [];
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(list));
      out.write(
        table(
          ["ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION"],
          list.map((e) => [
            e.experiment_id,
            e.name,
            e.lifecycle_stage,
            formatTime(e.creation_time),
            e.artifact_location,
          ]),
        ),
      );
    });

  experiments
    .command("create")
    .description("Create an experiment")
    .argument("<name>", "experiment name")
    .option("--artifact-location <uri>", "where its runs' artifacts go (default: proxied by the server)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (name: string, flags: ClientFlags & { artifactLocation?: string }) => {
      const res = await clientFor(flags).createExperiment({
        name,
        ...(flags.artifactLocation !== undefined ? { artifact_location: flags.artifactLocation } : {}),
      });
      const out = stdoutOutput(flags.json === true);
      out.write(out.json ? JSON.stringify(res) : `Created experiment '${name}' with id ${res.experiment_id}`);
    });

  experiments
    .command("delete")
    .description("Delete an experiment (soft: restorable until 'slipway gc')")
    .argument("<id>", "experiment id")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (id: string, flags: ClientFlags) => {
      await clientFor(flags).deleteExperiment({ experiment_id: id });
      const out = stdoutOutput(flags.json === true);
      out.write(
        out.json ? JSON.stringify({ deleted: id }) : `Deleted experiment ${id} (restorable until 'slipway gc')`,
      );
    });

  experiments
    .command("restore")
    .description("Restore a deleted experiment")
    .argument("<id>", "experiment id")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (id: string, flags: ClientFlags) => {
      await clientFor(flags).restoreExperiment({ experiment_id: id });
      const out = stdoutOutput(flags.json === true);
      out.write(out.json ? JSON.stringify({ restored: id }) : `Restored experiment ${id}`);
    });
}
