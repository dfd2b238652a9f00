/**
 * `runPipeline`: one pipeline run. It is a tracked run (experiment `pipelines/<name>` unless the pipeline
 * or the caller names another) whose params are the pipeline's parameters; each step that starts gets a
 * child run (`mlflow.parentRunId`) with the step's params, metrics, artifacts, `step.log` and status.
 *
 * Steps start as soon as every step they need has finished, at most `parallelism` at once, in the
 * pipeline's order when several are ready. A step with caching whose key (code, inputs, parameters) matches
 * an earlier successful run reuses that run's outputs: its run is recorded FINISHED with
 * `slipway.pipeline.cached=true` and it does not execute. When a step fails (after its retries), no new
 * step starts, the running ones finish, and the pipeline run is FAILED. A cancel request (the run's tag,
 * polled every `cancelPollMs`, or the caller's `signal`) aborts the running steps' signals, starts nothing
 * more, and ends the pipeline run KILLED.
 *
 * Step failures are results, not exceptions: the promise rejects only for bad parameters or when the
 * tracking server cannot record the run at all.
 */
import { compactBatch, splitIntoBatches } from "../batching.js";
import { TrackingClient } from "../client.js";
import { Slipway } from "../slipway.js";
import { codeDigest, stepCacheKey } from "./cache-key.js";
import { watchPipelineCancel } from "./cancellation.js";
import { resolvePipelineParams, type Pipeline, type PipelineParamValue } from "./definition.js";
import { errorText, PipelineDefinitionError } from "./errors.js";
import { LocalExecutor, type PipelineExecutor } from "./executor.js";
import type { JsonValue } from "./json-value.js";
import { findCachedStep } from "./step-cache.js";
import type { StepExecution, StepStatus } from "./step-execution.js";
import { OUTPUTS_ARTIFACT, PIPELINE_ARTIFACT, PIPELINE_TAGS, STEP_LOG_ARTIFACT, tagValue } from "./tags.js";
import { triggerId, type PipelineTrigger } from "./trigger.js";

export interface RunPipelineOptions {
  /** The tracking server. Default: `slipway.client`, else one from the environment. */
  readonly client?: TrackingClient;
  /** Starts the pipeline run (and, with the local executor, resumes step runs). Default: a new one on `client`. */
  readonly slipway?: Slipway;
  /** Overrides of the pipeline's parameters (text values are converted to the default's type). */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Default: `LocalExecutor` (steps run in this process). */
  readonly executor?: PipelineExecutor;
  /** Steps running at once. Default: the pipeline's (4 unless it says otherwise). */
  readonly parallelism?: number;
  /** The experiment of the run. Default: the pipeline's (`pipelines/<name>`). */
  readonly experiment?: string;
  /** false: run every step, reusing nothing (results are still recorded for later runs). Default true. */
  readonly cache?: boolean;
  /** Why this run starts. Default `{ kind: "manual" }`. */
  readonly trigger?: PipelineTrigger;
  readonly runName?: string;
  /** More tags on the pipeline run. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Cancels the run when it aborts. */
  readonly signal?: AbortSignal;
  /** How often the run's cancel tag is read. Default 1000 ms. */
  readonly cancelPollMs?: number;
  /** Progress, as it happens. */
  readonly onEvent?: (event: PipelineEvent) => void;
  /** Step log lines of the local executor also go here. */
  readonly echo?: (line: string) => void;
  /** Record git state, Node version, command... on the pipeline run. Default true. */
  readonly captureEnvironment?: boolean;
}

export type PipelineEvent =
  | { readonly type: "run-started"; readonly pipeline: string; readonly runId: string; readonly experimentId: string }
  | { readonly type: "step-started"; readonly step: string; readonly runId: string }
  | { readonly type: "step-cached"; readonly step: string; readonly runId: string; readonly sourceRunId: string }
  | {
      readonly type: "step-finished";
      readonly step: string;
      readonly runId: string | undefined;
      readonly status: StepStatus;
      readonly attempts: number;
      readonly durationMs: number;
      readonly error?: string;
    }
  | { readonly type: "run-finished"; readonly runId: string; readonly status: StepStatus; readonly durationMs: number };

export interface StepResult {
  readonly name: string;
  /** SKIPPED: not started (something it needs failed, or the run was cancelled or failed first). */
  readonly status: StepStatus | "SKIPPED";
  readonly runId?: string;
  readonly cached: boolean;
  /** The run whose outputs a cached step reused. */
  readonly cacheSource?: string;
  readonly attempts: number;
  readonly outputs?: JsonValue;
  readonly error?: string;
  readonly durationMs?: number;
}

export interface PipelineRunResult {
  readonly pipeline: string;
  readonly runId: string;
  readonly experimentId: string;
  readonly status: StepStatus;
  /** By step name, in the pipeline's order. */
  readonly steps: Readonly<Record<string, StepResult>>;
  /** The first failure. */
  readonly error?: string;
  readonly durationMs: number;
}

/** What `pipeline.json` on a pipeline run holds: the graph as it ran (for `status` and the UI). */
export interface PipelineRunShape {
  readonly name: string;
  readonly description?: string;
  readonly steps: readonly {
    readonly name: string;
    readonly needs: readonly string[];
    readonly retries: number;
    readonly timeoutMs?: number;
    readonly cache: boolean;
  }[];
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  readonly trigger: PipelineTrigger;
  readonly executor: string;
  readonly parallelism: number;
}

function safely(fn: (() => void) | undefined): void {
  try {
    fn?.();
  } catch {
    // a progress callback that throws must not break the run
  }
}

export async function runPipeline(pipeline: Pipeline, options: RunPipelineOptions = {}): Promise<PipelineRunResult> {
  const params = resolvePipelineParams(pipeline, options.params);
  const parallelism = options.parallelism ?? pipeline.parallelism;
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) {
    throw new PipelineDefinitionError(`parallelism must be a whole number ≥ 1, got ${String(parallelism)}`);
  }
  const client = options.client ?? options.slipway?.client ?? new TrackingClient();
  const slipway = options.slipway ?? new Slipway({ client });
  const executor = options.executor ?? new LocalExecutor({ slipway, ...(options.echo ? { echo: options.echo } : {}) });
  const trigger = options.trigger ?? { kind: "manual" };
  const firing = triggerId(trigger);
  const emit = (event: PipelineEvent) => safely(options.onEvent && (() => options.onEvent!(event)));
  const started = performance.now();

  const parent = await slipway.startRun({
    experiment: options.experiment ?? pipeline.experiment,
    runName: options.runName ?? `${pipeline.name}-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, "")}`,
    ...(pipeline.description ? { description: pipeline.description } : {}),
    captureEnvironment: options.captureEnvironment !== false,
    logGitDiff: false,
    tags: {
      ...options.tags,
      [PIPELINE_TAGS.pipeline]: pipeline.name,
      [PIPELINE_TAGS.trigger]: trigger.kind,
      ...(firing === undefined ? {} : { [PIPELINE_TAGS.triggerId]: firing }),
      [PIPELINE_TAGS.executor]: executor.kind,
    },
    params,
  });
  const experimentId = parent.experimentId;
  const shape: PipelineRunShape = {
    name: pipeline.name,
    ...(pipeline.description ? { description: pipeline.description } : {}),
    steps: pipeline.order.map((name) => {
      const s = pipeline.steps[name]!;
      return {
        name,
        needs: s.needs,
        retries: s.retries,
        ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
        cache: s.cache !== false,
      };
    }),
    params,
    trigger,
    executor: executor.kind,
    parallelism,
  };
  try {
    await parent.logDict(shape, PIPELINE_ARTIFACT);
  } catch (error) {
    await parent.end("FAILED").catch(() => undefined);
    throw error;
  }
  emit({ type: "run-started", pipeline: pipeline.name, runId: parent.id, experimentId });

  const watch = watchPipelineCancel(client, parent.id, {
    ...(options.cancelPollMs === undefined ? {} : { intervalMs: options.cancelPollMs }),
    ...(options.signal ? { also: options.signal } : {}),
  });
  const results = new Map<string, StepResult>();
  const running = new Map<string, Promise<void>>();
  const ownRuns = new Set<string>();
  let firstError: string | undefined;

  const stepParams = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));

  const createStepRun = async (name: string, tags: Record<string, string>): Promise<{ id: string; uri: string }> => {
    const { run } = await client.createRun({
      experiment_id: experimentId,
      run_name: name,
      start_time: Date.now(),
      ...(parent.info.user_id ? { user_id: parent.info.user_id } : {}),
      tags: Object.entries({
        "mlflow.parentRunId": parent.id,
        [PIPELINE_TAGS.pipeline]: pipeline.name,
        [PIPELINE_TAGS.step]: name,
        ...tags,
      }).map(([key, value]) => ({ key, value })),
    });
    ownRuns.add(run.info.run_id);
    for (const batch of splitIntoBatches({ params: stepParams })) {
      await client.logBatch({ run_id: run.info.run_id, ...compactBatch(batch) });
    }
    return { id: run.info.run_id, uri: run.info.artifact_uri };
  };

  const launch = async (name: string): Promise<void> => {
    const step = pipeline.steps[name]!;
    const t0 = performance.now();
    const inputs: Record<string, JsonValue> = {};
    for (const need of step.needs) inputs[need] = results.get(need)?.outputs ?? null;
    const cacheKey = stepCacheKey({ pipeline: pipeline.name, step, params, inputs });
    const digest = codeDigest(step);
    let runId: string | undefined;
    let result: StepResult;
    try {
      const hit =
        cacheKey !== undefined && options.cache !== false
          ? await findCachedStep(client, {
              experimentId,
              pipeline: pipeline.name,
              step: name,
              cacheKey,
              exclude: ownRuns,
            })
          : undefined;
      if (hit) {
        const created = await createStepRun(name, {
          [PIPELINE_TAGS.codeDigest]: digest,
          [PIPELINE_TAGS.cacheKey]: cacheKey!,
          [PIPELINE_TAGS.cached]: "true",
          [PIPELINE_TAGS.cacheSource]: hit.runId,
          [PIPELINE_TAGS.attempts]: "0",
        });
        runId = created.id;
        await client.artifacts.logText(created.uri, `${JSON.stringify(hit.outputs, null, 2)}\n`, OUTPUTS_ARTIFACT);
        await client.artifacts.logText(
          created.uri,
          `${new Date().toISOString()} reused the outputs of run ${hit.runId} (same code, inputs and parameters)\n`,
          STEP_LOG_ARTIFACT,
        );
        await client.updateRun({ run_id: runId, status: "FINISHED", end_time: Date.now() });
        emit({ type: "step-cached", step: name, runId, sourceRunId: hit.runId });
        result = {
          name,
          status: "FINISHED",
          runId,
          cached: true,
          cacheSource: hit.runId,
          attempts: 0,
          outputs: hit.outputs,
          durationMs: performance.now() - t0,
        };
      } else {
        const created = await createStepRun(name, {
          [PIPELINE_TAGS.codeDigest]: digest,
          ...(cacheKey === undefined ? {} : { [PIPELINE_TAGS.cacheKey]: cacheKey }),
          [PIPELINE_TAGS.cached]: "false",
        });
        runId = created.id;
        emit({ type: "step-started", step: name, runId });
        const execution: StepExecution = await executor.runStep(
          {
            pipeline,
            step: name,
            runId,
            pipelineRunId: parent.id,
            experimentId,
            trackingUri: client.trackingUri,
            params,
            inputs,
            trigger,
            codeDigest: digest,
          },
          watch.signal,
        );
        result = {
          name,
          status: execution.status,
          runId,
          cached: false,
          attempts: execution.attempts,
          ...(execution.outputs === undefined ? {} : { outputs: execution.outputs }),
          ...(execution.error === undefined ? {} : { error: execution.error }),
          durationMs: performance.now() - t0,
        };
      }
    } catch (error) {
      const why = errorText(error);
      if (runId !== undefined) {
        const id = runId;
        await client
          .setTag({ run_id: id, key: PIPELINE_TAGS.error, value: tagValue(why) })
          .then(() => client.updateRun({ run_id: id, status: "FAILED", end_time: Date.now() }))
          .catch(() => undefined);
      }
      result = {
        name,
        status: "FAILED",
        ...(runId === undefined ? {} : { runId }),
        cached: false,
        attempts: 0,
        error: why,
        durationMs: performance.now() - t0,
      };
    }
    results.set(name, result);
    if (result.status === "FAILED") firstError ??= `step '${name}' failed: ${result.error ?? "unknown error"}`;
    emit({
      type: "step-finished",
      step: name,
      runId: result.runId,
      status: result.status as StepStatus,
      attempts: result.attempts,
      durationMs: result.durationMs ?? 0,
      ...(result.error === undefined ? {} : { error: result.error }),
    });
  };

  const cancelled = new Promise<void>((resolve) => {
    if (watch.signal.aborted) resolve();
    watch.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    for (;;) {
      if (firstError === undefined && !watch.signal.aborted) {
        for (const name of pipeline.order) {
          if (running.size >= parallelism) break;
          if (results.has(name) || running.has(name)) continue;
          if (!pipeline.steps[name]!.needs.every((need) => results.get(need)?.status === "FINISHED")) continue;
          running.set(
            name,
            launch(name).finally(() => running.delete(name)),
          );
        }
      }
      if (running.size === 0) break;
      await Promise.race([...running.values(), cancelled]);
      // after a cancel, wait for the running steps to end (they were aborted)
      if (watch.signal.aborted) await Promise.all(running.values());
    }
  } finally {
    watch.stop();
  }

  const killed = watch.signal.aborted || [...results.values()].some((r) => r.status === "KILLED");
  const steps: Record<string, StepResult> = {};
  for (const name of pipeline.order) {
    const done = results.get(name);
    if (done) {
      steps[name] = done;
      continue;
    }
    const blocker = pipeline.steps[name]!.needs.find((need) => results.get(need)?.status !== "FINISHED");
    steps[name] = {
      name,
      status: "SKIPPED",
      cached: false,
      attempts: 0,
      error: killed
        ? "not started: the run was cancelled"
        : blocker !== undefined
          ? `not started: step '${blocker}' did not finish`
          : "not started: another step failed first",
    };
  }
  const status: StepStatus =
    firstError !== undefined
      ? "FAILED"
      : killed
        ? "KILLED"
        : Object.values(steps).every((s) => s.status === "FINISHED")
          ? "FINISHED"
          : "FAILED";
  const error = firstError ?? (killed ? "cancelled" : undefined);
  if (error !== undefined) await parent.setTag(PIPELINE_TAGS.error, tagValue(error)).catch(() => undefined);
  await parent.end(status);
  const durationMs = performance.now() - started;
  emit({ type: "run-finished", runId: parent.id, status, durationMs });
  return {
    pipeline: pipeline.name,
    runId: parent.id,
    experimentId,
    status,
    steps,
    ...(error === undefined ? {} : { error }),
    durationMs,
  };
}
