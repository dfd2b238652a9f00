/**
 * The queue of distributed pipeline steps: its default name, the job name, the payload of a step job and
 * what a worker answers. Payloads are parsed at the edge (`parseStepJob`), so a worker never acts on a job
 * it does not understand; new fields stay optional until old jobs have drained.
 *
 * A job carries everything but the step's code: the worker loads the same pipelines file and checks that
 * its copy of the step has the code digest the runner saw, so a step never runs with other code than the
 * one its cache key was computed for.
 */
import type { JsonValue, PipelineParamValue, PipelineTrigger, StepExecution } from "@slipway/sdk";

export const DEFAULT_PIPELINE_QUEUE = "slipway-pipelines";
export const STEP_JOB_NAME = "pipeline-step";

export interface StepJobData {
  readonly version: 1;
  readonly pipeline: string;
  readonly step: string;
  /** The step's run (created by the runner) and its pipeline run. */
  readonly runId: string;
  readonly pipelineRunId: string;
  readonly experimentId: string;
  readonly trackingUri: string;
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  readonly inputs: Readonly<Record<string, JsonValue>>;
  readonly trigger: PipelineTrigger;
  readonly codeDigest: string;
}

/** One job per step run: adding it twice is a no-op. */
export function stepJobId(runId: string): string {
  return `step-${runId}`;
}

export class StepJobError extends Error {
  override readonly name = "StepJobError";
}

type Shape = Record<string, unknown>;

function object(value: unknown, where: string): Shape {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new StepJobError(`${where} must be an object`);
  return value as Shape;
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw new StepJobError(`${where} must be a non-empty string`);
  return value;
}

export function parseStepJob(value: unknown): StepJobData {
  const v = object(value, "the job");
  if (v.version !== 1) throw new StepJobError(`unknown job version ${JSON.stringify(v.version) ?? "(none)"}`);
  const params = object(v.params, "params");
  for (const [key, p] of Object.entries(params)) {
    if (typeof p !== "string" && typeof p !== "number" && typeof p !== "boolean") {
      throw new StepJobError(`params.${key} must be a string, number or boolean`);
    }
  }
  const trigger = object(v.trigger, "trigger");
  if (!["manual", "schedule", "alert", "registry"].includes(trigger.kind as string)) {
    throw new StepJobError(`trigger.kind must be manual, schedule, alert or registry`);
  }
  return {
    version: 1,
    pipeline: text(v.pipeline, "pipeline"),
    step: text(v.step, "step"),
    runId: text(v.runId, "runId"),
    pipelineRunId: text(v.pipelineRunId, "pipelineRunId"),
    experimentId: text(v.experimentId, "experimentId"),
    trackingUri: text(v.trackingUri, "trackingUri"),
    params: params as Record<string, PipelineParamValue>,
    inputs: object(v.inputs, "inputs") as Record<string, JsonValue>,
    trigger: trigger as unknown as PipelineTrigger,
    codeDigest: text(v.codeDigest, "codeDigest"),
  };
}

export function parseStepResult(value: unknown): StepExecution {
  const v = object(value, "the step's result");
  if (v.status !== "FINISHED" && v.status !== "FAILED" && v.status !== "KILLED") {
    throw new StepJobError(`the step's result has no valid status (${JSON.stringify(v.status) ?? "none"})`);
  }
  if (typeof v.attempts !== "number") throw new StepJobError("the step's result has no attempt count");
  return {
    status: v.status,
    attempts: v.attempts,
    ...(v.outputs === undefined ? {} : { outputs: v.outputs as JsonValue }),
    ...(typeof v.error === "string" ? { error: v.error } : {}),
  };
}
