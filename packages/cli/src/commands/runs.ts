import type { Command } from "commander";
import type { Run } from "@slipway/protocol";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { formatTime, stdoutOutput, table } from "../output.js";
import { registerReproduce } from "./reproduce.js";

interface SearchFlags extends ClientFlags {
  experimentId?: string[];
  experimentName?: string[];
  filter?: string;
  orderBy?: string[];
  maxResults: string;
  view?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function duration(run: Run): string {
  const end = run.info.end_time;
  if (end === undefined) return "";
  const s = (end - run.info.start_time) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

function runsTable(runs: readonly Run[]): string {
  const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort().slice(0, 4);
  return table(
    ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION", ...metricKeys],
    runs.map((r) => [
      r.info.run_id,
      r.info.run_name,
      r.info.status,
      formatTime(r.info.start_time),
      duration(r),
      ...metricKeys.map((k) => {
        const m = r.data.metrics?.find((x) => x.key === k);
        return m === undefined ? "" : Number.isInteger(m.value) ? m.value : m.value.toPrecision(6);
      }),
    ]),
  );
}

async function searchAction(flags: SearchFlags): Promise<void> {
  const client = clientFor(flags);
  const ids = [...(flags.experimentId ?? [])];
  for (const name of flags.experimentName ?? []) {
    ids.push((await client.getExperimentByName({ experiment_name: name })).experiment.experiment_id);
  }
  if (ids.length === 0) ids.push("0");
  const max = Number(flags.maxResults);
  if (!Number.isInteger(max) || max <= 0)
    throw new UsageError(`--max-results: '${flags.maxResults}' is not a positive integer`);
  const view = (flags.view ?? "active").toLowerCase();
  const runViewType =
    view === "active" ? "ACTIVE_ONLY" : view === "deleted" ? "DELETED_ONLY" : view === "all" ? "ALL" : undefined;
  if (!runViewType) throw new UsageError(`--view: '${flags.view}' is not one of active, deleted, all`);
  const res = await client.searchRuns({
    experiment_ids: ids,
    max_results: max,
    run_view_type: runViewType,
    ...(flags.filter !== undefined ? { filter: flags.filter } : {}),
    ...(flags.orderBy !== undefined ? { order_by: flags.orderBy } : {}),
  });
  const runs = res.runs ?? [];
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(runs) : runsTable(runs));
}

function searchCommand(cmd: Command, description: string): void {
  cmd
    .description(description)
    .option("--experiment-id <id>", "experiment id (repeatable; default 0)", collect)
    .option("--experiment-name <name>", "experiment name (repeatable)", collect)
    .option("--filter <filter>", "MLflow filter, e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\"")
    .option("--order-by <term>", "e.g. 'metrics.acc DESC' (repeatable)", collect)
    .option("--max-results <n>", "at most this many", "100")
    .option("--view <view>", "active | deleted | all", "active")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(searchAction);
}

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("Inspect and search runs");
  searchCommand(runs.command("list"), "List the runs of experiments, newest first");
  searchCommand(runs.command("search"), "Search runs with MLflow's filter language");
  registerReproduce(runs);

  runs
    .command("get")
    .description("Show one run: info, params, latest metrics, tags, inputs")
    .argument("<run-id>", "run id")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, flags: ClientFlags) => {
      const { run } = await clientFor(flags).getRun({ run_id: runId });
      const out = stdoutOutput(flags.json === true);
      if (out.json) return out.write(JSON.stringify(run));
      const i = run.info;
      const lines = [
        `Run ${i.run_id} (${i.run_name})`,
        `  experiment: ${i.experiment_id}   status: ${i.status}   stage: ${i.lifecycle_stage}`,
        `  started: ${formatTime(i.start_time)}   ended: ${formatTime(i.end_time)}   user: ${i.user_id}`,
        `  artifacts: ${i.artifact_uri}`,
        "",
        table(
          ["PARAM", "VALUE"],
          (run.data.params ?? []).map((p) => [p.key, p.value]),
        ),
        "",
        table(
          ["METRIC", "VALUE", "STEP"],
          (run.data.metrics ?? []).map((m) => [m.key, m.value, m.step ?? 0]),
        ),
        "",
        table(
          ["TAG", "VALUE"],
          (run.data.tags ?? []).map((t) => [t.key, t.value]),
        ),
      ];
      const datasets = run.inputs?.dataset_inputs ?? [];
      if (datasets.length > 0) {
        lines.push(
          "",
          table(
            ["DATASET", "DIGEST", "SOURCE TYPE"],
            datasets.map((d) => [d.dataset.name, d.dataset.digest, d.dataset.source_type]),
          ),
        );
      }
      out.write(lines.join("\n"));
    });
}
