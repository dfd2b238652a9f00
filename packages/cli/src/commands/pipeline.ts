/**
 * `slipway pipeline list|run|status|logs|cancel|scheduler`: pipelines defined in an ES module
 * (`--pipelines FILE`, default ./pipelines.mjs) with `definePipeline` from @slipway/sdk, run in this
 * process or on `slipway worker --pipelines FILE` processes (`--executor bullmq`), and read back from the
 * tracking server. See docs/pipelines.md.
 */
import type { Command } from "commander";
import {
  getPipelineRun,
  PipelineDefinitionError,
  readStepLog,
  requestPipelineCancel,
  runPipeline,
  Slipway,
  type Pipeline,
  type PipelineExecutor,
  type PipelineTrigger,
  type TrackingClient,
} from "@slipway/sdk";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { parseDuration, UsageError } from "../errors.js";
import { stdoutOutput } from "../output.js";
import { DEFAULT_PIPELINES_FILE, loadPipelines, pipelineNamed } from "../pipelines/load-pipelines.js";
import { checkRedisUrl } from "../pipelines/redis-url.js";
import { DEFAULT_PIPELINE_QUEUE } from "../pipelines/step-job.js";
import {
  eventLine,
  pipelinesJson,
  pipelinesTable,
  resultJson,
  resultTable,
  statusJson,
  statusTable,
} from "../pipelines/views.js";
import { positiveArg } from "./batch-predict.js";

interface FileFlags {
  pipelines?: string;
}

interface ExecutorFlags extends ClientFlags, FileFlags {
  executor?: string;
  redis?: string;
  queue?: string;
}

interface RunFlags extends ExecutorFlags {
  param?: string[];
  parallelism?: string;
  experiment?: string;
  cache?: boolean;
  quiet?: boolean;
}

interface SchedulerFlags extends ExecutorFlags {
  alertPoll?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const stderr = (line: string) => process.stderr.write(`${line}\n`);
const stamped = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function parseParams(items: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param: '${item}' is not KEY=VALUE`);
    const key = item.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new UsageError(`--param: '${key}' is given twice`);
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** Definition and parameter errors are the user's: exit 2 with the message. */
async function usage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PipelineDefinitionError) throw new UsageError(error.message);
    throw error;
  }
}

function checkExecutorFlags(flags: ExecutorFlags): "local" | "bullmq" {
  const kind = flags.executor ?? "local";
  if (kind !== "local" && kind !== "bullmq") throw new UsageError(`--executor: '${kind}' is not one of local, bullmq`);
  if (kind === "bullmq" && flags.redis === undefined) {
    throw new UsageError("--executor bullmq needs --redis URL (e.g. redis://127.0.0.1:6379)");
  }
  if (kind === "local" && flags.queue !== undefined) throw new UsageError("--queue goes with --executor bullmq");
  return kind;
}

/** The executor of `--executor`; undefined = the runner's local one. BullMQ is loaded only when asked for. */
async function openExecutor(
  kind: "local" | "bullmq",
  flags: ExecutorFlags,
  client: TrackingClient,
  log: (line: string) => void,
): Promise<PipelineExecutor | undefined> {
  if (kind === "local") return undefined;
  const { BullmqExecutor } = await import("../pipelines/bullmq-executor.js");
  return BullmqExecutor.open({ redis: flags.redis!, queue: flags.queue ?? DEFAULT_PIPELINE_QUEUE, client, log });
}

type StopSignal = "SIGINT" | "SIGTERM";

/** First SIGINT/SIGTERM: `onFirst` (cancel, finish cleanly); a second one: exit at once. */
async function withSignals<T>(onFirst: (signal: StopSignal) => void, job: () => Promise<T>): Promise<T> {
  let received: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (received !== undefined) {
      stderr(`\nslipway: ${signal} again: stopping at once`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    received = signal;
    onFirst(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  try {
    return await job();
  } finally {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  }
}

async function runAction(name: string, flags: RunFlags): Promise<void> {
  const kind = checkExecutorFlags(flags);
  if (flags.redis !== undefined) checkRedisUrl(flags.redis);
  if (kind === "local" && flags.redis !== undefined) throw new UsageError("--redis goes with --executor bullmq");
  const parallelism = positiveArg(flags.parallelism, "--parallelism");
  const params = parseParams(flags.param);
  const file = flags.pipelines ?? DEFAULT_PIPELINES_FILE;
  const loaded = await loadPipelines(file);
  const pipeline = pipelineNamed(loaded, name, file);
  const client = clientFor(flags);
  const out = stdoutOutput(flags.json === true);
  const executor = await openExecutor(kind, flags, client, stderr);
  const controller = new AbortController();
  try {
    const result = await withSignals(
      (signal) => {
        stderr(`\n${signal}: cancelling the run (${signal} again to stop at once)`);
        controller.abort();
      },
      () =>
        usage(() =>
          runPipeline(pipeline, {
            client,
            slipway: new Slipway({ client }),
            params,
            ...(executor ? { executor } : {}),
            ...(parallelism === undefined ? {} : { parallelism }),
            ...(flags.experiment === undefined ? {} : { experiment: flags.experiment }),
            cache: flags.cache !== false,
            signal: controller.signal,
            onEvent: (event) => stderr(eventLine(event)),
            ...(flags.quiet ? {} : { echo: stderr }),
          }),
        ),
    );
    out.write(out.json ? JSON.stringify(resultJson(result)) : resultTable(result));
    if (result.status !== "FINISHED") {
      throw new Error(`pipeline run ${result.runId} ${result.status}: ${result.error ?? "not every step finished"}`);
    }
  } finally {
    await executor?.close();
  }
}

async function schedulerAction(flags: SchedulerFlags): Promise<void> {
  const kind = checkExecutorFlags(flags);
  if (flags.redis !== undefined) checkRedisUrl(flags.redis);
  const alertPollMs = flags.alertPoll === undefined ? undefined : parseDuration(flags.alertPoll, "--alert-poll");
  if (alertPollMs !== undefined && !(alertPollMs >= 100)) throw new UsageError("--alert-poll: at least 100ms");
  const file = flags.pipelines ?? DEFAULT_PIPELINES_FILE;
  const loaded = await loadPipelines(file);
  const { PipelineScheduler } = await import("../pipelines/scheduler.js");
  const { MemoryClaims, RedisClaims } = await import("../pipelines/trigger-claims.js");
  const client = clientFor(flags);
  const claims = flags.redis === undefined ? new MemoryClaims() : await RedisClaims.open(flags.redis);
  const executor = await openExecutor(kind, flags, client, stamped).catch(async (error: unknown) => {
    await claims.close();
    throw error;
  });
  const runs = new Set<Promise<unknown>>();
  const slipway = new Slipway({ client, handleProcessExit: false });
  const start = (pipeline: Pipeline, trigger: PipelineTrigger) => {
    const run = runPipeline(pipeline, {
      client,
      slipway,
      trigger,
      ...(executor ? { executor } : {}),
      onEvent: (event) => stamped(`${pipeline.name}: ${eventLine(event)}`),
    }).catch((error: unknown) => stamped(`${pipeline.name}: run failed to start: ${String(error)}`));
    runs.add(run);
    void run.finally(() => runs.delete(run));
  };
  const scheduler = new PipelineScheduler({
    pipelines: loaded,
    client,
    claims,
    start,
    log: stamped,
    ...(alertPollMs === undefined ? {} : { alertPollMs }),
  });
  const watched = scheduler.describe();
  if (watched.schedules + watched.alerts + watched.registry === 0) {
    await Promise.allSettled([claims.close(), executor?.close()]);
    throw new UsageError(`nothing to schedule: no pipeline in ${file} has a schedule or 'on' triggers`);
  }
  stamped(
    `scheduler: ${loaded.pipelines.size} pipeline(s) from ${file}: ${watched.schedules} schedule(s), ` +
      `${watched.alerts} alert trigger(s), ${watched.registry} registry trigger(s); ` +
      `claims ${flags.redis === undefined ? "in this process" : "in Redis"}, executor ${kind}`,
  );
  scheduler.start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        stamped(`${signal}: stopping now`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      stopping = true;
      stamped(`${signal}: no new runs; waiting for ${runs.size} run(s) in progress (${signal} again to stop now)`);
      void scheduler
        .stop()
        .then(() => Promise.allSettled([...runs]))
        .finally(() => {
          void Promise.allSettled([claims.close(), executor?.close()]).then(() => resolve());
        });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function registerPipeline(program: Command): void {
  const pipeline = program
    .command("pipeline")
    .description("Run pipelines (steps with dependencies, retries, caching) as tracked runs, and schedule them");
  const fileOption = (cmd: Command) =>
    cmd.option("--pipelines <file>", `ES module exporting the pipelines (default ${DEFAULT_PIPELINES_FILE})`);
  const executorOptions = (cmd: Command) =>
    cmd
      .option("--executor <kind>", "local (steps run here) or bullmq (steps run on slipway worker processes)", "local")
      .option("--redis <url>", "Redis for --executor bullmq (and, for the scheduler, for claims)")
      .option("--queue <name>", `BullMQ queue (default ${DEFAULT_PIPELINE_QUEUE})`);

  fileOption(pipeline.command("list").description("List the pipelines of a pipelines file"))
    .option("--json", "machine-readable output")
    .action(async (flags: FileFlags & { json?: boolean }) => {
      const file = flags.pipelines ?? DEFAULT_PIPELINES_FILE;
      const loaded = await loadPipelines(file);
      const all = [...loaded.pipelines.values()];
      const out = stdoutOutput(flags.json === true);
      const now = Date.now();
      out.write(
        out.json
          ? JSON.stringify(pipelinesJson(all, loaded.schedules, now))
          : pipelinesTable(all, loaded.schedules, now),
      );
    });

  executorOptions(
    fileOption(
      pipeline
        .command("run")
        .description("Run a pipeline now; exits 0 when every step finished, 1 otherwise")
        .argument("<name>", "the pipeline's name"),
    ),
  )
    .option("--param <key=value>", "override a parameter (repeatable)", collect)
    .option("--parallelism <n>", "steps running at once (default: the pipeline's, 4 unless it says otherwise)")
    .option("--experiment <name>", "experiment of the run (default: the pipeline's, pipelines/<name>)")
    .option("--no-cache", "run every step, reusing no cached outputs")
    .option("--quiet", "do not print the steps' log lines")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable result on stdout")
    .action(runAction);

  pipeline
    .command("status")
    .description("Show a pipeline run and its steps")
    .argument("<run-id>", "the pipeline run's id")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, flags: ClientFlags) => {
      const info = await getPipelineRun(clientFor(flags), runId);
      const out = stdoutOutput(flags.json === true);
      out.write(out.json ? JSON.stringify(statusJson(info)) : statusTable(info));
    });

  pipeline
    .command("logs")
    .description("Print the step logs (step.log) of a pipeline run")
    .argument("<run-id>", "the pipeline run's id")
    .option("--step <name>", "only this step's log")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(async (runId: string, flags: ClientFlags & { step?: string }) => {
      const client = clientFor(flags);
      const info = await getPipelineRun(client, runId);
      if (flags.step !== undefined) {
        const step = info.steps.find((s) => s.name === flags.step);
        if (!step) {
          throw new UsageError(
            `--step: pipeline '${info.pipeline}' has no step '${flags.step}' (its steps: ${info.steps.map((s) => s.name).join(", ")})`,
          );
        }
        if (!step.run) throw new UsageError(`--step: step '${step.name}' has not started (${step.status})`);
        process.stdout.write(await readStepLog(client, step.run));
        return;
      }
      for (const step of info.steps) {
        process.stdout.write(
          `==> ${step.name} (${step.status}${step.run ? `, run ${step.run.info.run_id}` : ""}) <==\n`,
        );
        if (step.run) process.stdout.write(await readStepLog(client, step.run));
      }
    });

  pipeline
    .command("cancel")
    .description("Cancel a running pipeline run: its running steps are aborted, nothing more starts")
    .argument("<run-id>", "the pipeline run's id")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, flags: ClientFlags) => {
      const run = await requestPipelineCancel(clientFor(flags), runId, "by slipway pipeline cancel");
      const name = run.data.tags?.find((t) => t.key === "slipway.pipeline")?.value ?? "";
      const out = stdoutOutput(flags.json === true);
      out.write(
        out.json
          ? JSON.stringify({ run_id: runId, pipeline: name, cancel_requested: true })
          : `cancel requested for pipeline run ${runId} (${name}): it stops within a few seconds`,
      );
    });

  executorOptions(
    fileOption(
      pipeline
        .command("scheduler")
        .description("Start pipeline runs on their cron schedules, monitor alerts and registry events"),
    ),
  )
    .option("--alert-poll <duration>", "how often firing alerts are read (default 15s)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(schedulerAction);
}
