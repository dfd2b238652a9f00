/**
 * Where steps run. The runner decides what runs when (the graph, parallelism, caching, cancellation) and
 * creates each step's tracked run; an executor only runs one step on that run and answers how it ended.
 * `LocalExecutor` runs it in this process; the CLI's BullMQ executor puts it on a queue for
 * `slipway worker --pipelines FILE` processes, which call the same `executeStep`.
 */
import type { Slipway } from "../slipway.js";
import type { Pipeline, PipelineParams } from "./definition.js";
import type { JsonValue } from "./json-value.js";
import { executeStep, type StepExecution } from "./step-execution.js";
import type { PipelineTrigger } from "./trigger.js";

/** One step to run, on a run the runner created. Everything but `pipeline` is plain JSON. */
export interface StepTask {
  readonly pipeline: Pipeline;
  readonly step: string;
  /** The step's run. */
  readonly runId: string;
  readonly pipelineRunId: string;
  readonly experimentId: string;
  readonly trackingUri: string;
  readonly params: PipelineParams;
  /** The outputs of the steps it needs, by step name. */
  readonly inputs: Readonly<Record<string, JsonValue>>;
  readonly trigger: PipelineTrigger;
  /** sha256 of the step function's source text, as the runner sees it. */
  readonly codeDigest: string;
}

export interface PipelineExecutor {
  /** Recorded on the pipeline run (tag `slipway.pipeline.executor`). */
  readonly kind: string;
  /**
   * Runs the step and ends its run. Resolves with how the step ended (a failed step is not a rejection);
   * rejects only when the executor itself failed, the runner then marks the step's run FAILED.
   * `signal` aborts when the pipeline run is cancelled.
   */
  runStep(task: StepTask, signal: AbortSignal): Promise<StepExecution>;
  close(): Promise<void>;
}

export interface LocalExecutorOptions {
  readonly slipway: Slipway;
  /** Step log lines also go here. */
  readonly echo?: (line: string) => void;
  /** See `ExecuteStepOptions`. */
  readonly logFlushMs?: number;
  readonly graceMs?: number;
}

/** Runs steps in this process (the default). */
export class LocalExecutor implements PipelineExecutor {
  readonly kind = "local";

  constructor(private readonly options: LocalExecutorOptions) {}

  runStep(task: StepTask, signal: AbortSignal): Promise<StepExecution> {
    const { echo, logFlushMs, graceMs } = this.options;
    return executeStep({
      slipway: this.options.slipway,
      pipeline: task.pipeline,
      step: task.step,
      runId: task.runId,
      pipelineRunId: task.pipelineRunId,
      params: task.params,
      inputs: task.inputs,
      trigger: task.trigger,
      signal,
      ...(echo ? { echo } : {}),
      ...(logFlushMs === undefined ? {} : { logFlushMs }),
      ...(graceMs === undefined ? {} : { graceMs }),
    });
  }

  async close(): Promise<void> {}
}
