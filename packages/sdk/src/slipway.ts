/**
 * The fluent entry point: `new Slipway()` → `startRun({ experiment })` → log → `end()`, or
 * `withRun(options, async (run) => ...)`. Open runs are flushed and ended when the process ends.
 */
import { MlflowError, type RunInfo, type RunStatus } from "@slipway/protocol";
import { TrackingClient, type TrackingClientOptions } from "./client.js";
import {
  captureEnvironment,
  ENVIRONMENT_TAGS,
  environmentTags,
  type CaptureEnvironmentOptions,
  type RunEnvironment,
} from "./environment.js";
import { ExitHooks, type ExitReason, type HookableProcess } from "./exit-hooks.js";
import type { MetricBufferPolicy } from "./metric-buffer.js";
import { ActiveRun, type ParamValue } from "./run.js";

export interface SlipwayOptions extends TrackingClientOptions {
  /** Use this client instead of building one from the options above. */
  client?: TrackingClient;
  /** Metric buffering: flush at this many buffered metrics (≤ 1000). Default 1000. */
  flushSize?: number;
  /** ...or this long after the first unflushed metric. Default 1000 ms. */
  flushIntervalMs?: number;
  /**
   * End open runs when the process ends: on `beforeExit` (FINISHED, or FAILED if `process.exitCode`
   * is non-zero) and on SIGINT/SIGTERM (KILLED, then the signal is re-raised) when the program has
   * no handler of its own. Default true.
   */
  handleProcessExit?: boolean;
  /** Longest wait for flushing after a signal. Default 10 000 ms. */
  shutdownTimeoutMs?: number;
  /** @internal Test hook. */
  process?: HookableProcess;
}

export interface StartRunOptions {
  /** Experiment name, created if missing. Default: the experiment with id "0" ("Default"). */
  experiment?: string;
  /** Experiment id (instead of a name). */
  experimentId?: string;
  runName?: string;
  tags?: Record<string, string>;
  params?: Record<string, ParamValue>;
  /** Record git state, Node version, platform, command, user and lockfile as tags. Default true (not on resume). */
  captureEnvironment?: boolean;
  environment?: CaptureEnvironmentOptions;
  /**
   * Upload `git diff HEAD` as `slipway/git-diff.patch` when the working tree is dirty, so that
   * `slipway runs reproduce` can re-apply it. Default true.
   */
  logGitDiff?: boolean;
  /** Makes this a child run (`mlflow.parentRunId`). */
  parentRunId?: string;
  /** The run's description (`mlflow.note.content`). */
  description?: string;
  /** Resume this existing run instead of creating one (its status is set back to RUNNING). */
  runId?: string;
}

/** MLflow's run-create accepts the tags; log-batch takes at most 100 per request. */
const CREATE_TAGS_MAX = 100;

export class Slipway {
  readonly client: TrackingClient;
  private readonly bufferPolicy: Partial<MetricBufferPolicy>;
  private readonly runs = new Set<ActiveRun>();
  private readonly hooks: ExitHooks | undefined;
  private readonly proc: HookableProcess;

  constructor(options: SlipwayOptions = {}) {
    this.client = options.client ?? new TrackingClient(options);
    this.bufferPolicy = {
      ...(options.flushSize === undefined ? {} : { flushSize: options.flushSize }),
      ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    };
    this.proc = options.process ?? process;
    if (options.handleProcessExit !== false) {
      this.hooks = new ExitHooks({
        onExit: (reason) => this.endAllForExit(reason),
        process: this.proc,
        ...(options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs }),
      });
    }
  }

  /** Runs started by this instance and not ended yet. */
  get activeRuns(): readonly ActiveRun[] {
    return [...this.runs];
  }

  /** Creates (or resumes) a run, with the environment tags, the given tags and params. */
  async startRun(options: StartRunOptions = {}): Promise<ActiveRun> {
    // A resumed run keeps the environment it was created with.
    const capture = options.captureEnvironment !== false && options.runId === undefined;
    const environment = capture ? await captureEnvironment(options.environment) : undefined;
    const info = options.runId ? await this.resume(options.runId) : await this.create(options, environment);
    const run = new ActiveRun({
      client: this.client,
      info,
      ...(environment ? { environment } : {}),
      buffer: this.bufferPolicy,
      onEnd: (ended) => this.forget(ended),
    });
    this.runs.add(run);
    this.hooks?.install();
    try {
      const tags = this.tagsFor(options, environment);
      const extraTags = options.runId ? tags : Object.fromEntries(Object.entries(tags).slice(CREATE_TAGS_MAX));
      if (Object.keys(extraTags).length > 0) await run.setTags(extraTags);
      if (options.params && Object.keys(options.params).length > 0) await run.logParams(options.params);
      if (options.logGitDiff !== false && environment?.git?.diff)
        await run.logText(environment.git.diff, "slipway/git-diff.patch");
    } catch (error) {
      await run.end("FAILED").catch(() => undefined);
      throw error;
    }
    return run;
  }

  /**
   * Runs `fn` inside a run: ends it FINISHED, or FAILED if `fn` throws (the error is rethrown).
   */
  async withRun<T>(options: StartRunOptions, fn: (run: ActiveRun) => Promise<T> | T): Promise<T> {
    const run = await this.startRun(options);
    let result: T;
    try {
      result = await fn(run);
    } catch (error) {
      try {
        await run.end("FAILED");
      } catch (endError) {
        // The callback's error is the one rethrown; the end failure is reported, not dropped.
        const why = endError instanceof Error ? endError.message : String(endError);
        process.emitWarning(`Run ${run.id} could not be marked FAILED: ${why}`, {
          code: "SLIPWAY_RUN_END_FAILED",
        });
      }
      throw error;
    }
    await run.end("FINISHED");
    return result;
  }

  /** Ends every open run of this instance with `status` (metrics flushed first). */
  async endAll(status: RunStatus = "FINISHED"): Promise<void> {
    const results = await Promise.allSettled(this.activeRuns.map((run) => run.end(status)));
    const failures = results
      .filter((r): r is PromiseRejectedResult => r.status === "rejected")
      .map((r): unknown => r.reason);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} runs failed to end cleanly`);
  }

  private async create(options: StartRunOptions, environment: RunEnvironment | undefined): Promise<RunInfo> {
    const experimentId = await this.experimentIdFor(options);
    const tags = Object.entries(this.tagsFor(options, environment))
      .slice(0, CREATE_TAGS_MAX)
      .map(([key, value]) => ({ key, value }));
    const userId = environment?.user ?? options.tags?.["mlflow.user"];
    const { run } = await this.client.createRun({
      experiment_id: experimentId,
      start_time: Date.now(),
      ...(options.runName === undefined ? {} : { run_name: options.runName }),
      ...(userId === undefined ? {} : { user_id: userId }),
      tags,
    });
    return run.info;
  }

  private async resume(runId: string): Promise<RunInfo> {
    const { run } = await this.client.getRun({ run_id: runId });
    if (run.info.status === "RUNNING") return run.info;
    const { run_info } = await this.client.updateRun({ run_id: runId, status: "RUNNING" });
    return run_info ?? { ...run.info, status: "RUNNING" };
  }

  private async experimentIdFor(options: StartRunOptions): Promise<string> {
    if (options.experimentId !== undefined) return options.experimentId;
    if (options.experiment === undefined) return "0";
    const experiment = await this.client.getOrCreateExperiment(options.experiment);
    if (experiment.lifecycle_stage === "deleted") {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `Experiment '${options.experiment}' (id ${experiment.experiment_id}) is deleted: restore it or choose another name`,
      );
    }
    return experiment.experiment_id;
  }

  private tagsFor(options: StartRunOptions, environment: RunEnvironment | undefined): Record<string, string> {
    return {
      ...(environment ? environmentTags(environment) : {}),
      ...(options.parentRunId ? { "mlflow.parentRunId": options.parentRunId } : {}),
      // set by `slipway runs reproduce` for the command it re-runs: links the new run to the old one
      ...(environment && !options.parentRunId && process.env.SLIPWAY_REPRODUCES
        ? { [ENVIRONMENT_TAGS.reproduces]: process.env.SLIPWAY_REPRODUCES }
        : {}),
      ...(options.description ? { "mlflow.note.content": options.description } : {}),
      ...options.tags,
    };
  }

  private forget(run: ActiveRun): void {
    this.runs.delete(run);
    if (this.runs.size === 0) this.hooks?.uninstall();
  }

  private async endAllForExit(reason: ExitReason): Promise<void> {
    const exitCode = Number(this.proc.exitCode ?? 0);
    const status: RunStatus = reason === "beforeExit" ? (exitCode === 0 ? "FINISHED" : "FAILED") : "KILLED";
    await Promise.all(
      this.activeRuns.map((run) =>
        run.end(status).catch((error: unknown) => {
          // The process is ending: stderr is the only place left to say so.
          const why = error instanceof Error ? error.message : String(error);
          process.stderr.write(`slipway: run ${run.id} did not end cleanly (${status}): ${why}\n`);
        }),
      ),
    );
  }
}

/** `new Slipway(options)`, for those who prefer a factory. */
export function createSlipway(options: SlipwayOptions = {}): Slipway {
  return new Slipway(options);
}
