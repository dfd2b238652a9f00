/**
 * Reading pipeline runs back from the tracking server, for `slipway pipeline status|logs` and scripts:
 * the pipeline run, its steps in the pipeline's order (from its `pipeline.json`, so steps that never
 * started are listed too) with their runs, and a step's `step.log`.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MlflowError, parseJson, type Run, type RunStatus } from "@slipway/protocol";
import type { TrackingClient } from "../client.js";
import type { PipelineRunShape } from "./runner.js";
import { tagOf } from "./step-cache.js";
import { PIPELINE_ARTIFACT, PIPELINE_TAGS, STEP_LOG_ARTIFACT } from "./tags.js";

export interface PipelineStepInfo {
  readonly name: string;
  readonly needs: readonly string[];
  /** The step run's status; PENDING: not started yet (run still going); SKIPPED: never started. */
  readonly status: RunStatus | "PENDING" | "SKIPPED";
  readonly run?: Run;
  readonly cached: boolean;
  readonly cacheSource?: string;
  readonly attempts?: number;
  readonly error?: string;
}

export interface PipelineRunInfo {
  readonly pipeline: string;
  readonly run: Run;
  readonly shape: PipelineRunShape | undefined;
  readonly steps: readonly PipelineStepInfo[];
  readonly cancelRequested?: string;
  readonly error?: string;
}

async function readArtifactText(
  client: TrackingClient,
  artifactUri: string,
  path: string,
): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-artifact-"));
  try {
    const local = join(dir, "file");
    await client.artifacts.repository(artifactUri).getFile(path, local);
    return await readFile(local, "utf8");
  } catch (error) {
    if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The step runs of a pipeline run, by step name (the newest, should a step have several). */
export async function stepRunsOf(client: TrackingClient, parent: Run): Promise<Map<string, Run>> {
  const runs = new Map<string, Run>();
  for await (const run of client.searchAllRuns({
    experiment_ids: [parent.info.experiment_id],
    filter: `tags.\`mlflow.parentRunId\` = '${parent.info.run_id}'`,
    max_results: 1000,
  })) {
    if (tagOf(run, "mlflow.parentRunId") !== parent.info.run_id) continue;
    const step = tagOf(run, PIPELINE_TAGS.step);
    if (step === undefined) continue;
    const seen = runs.get(step);
    if (!seen || seen.info.start_time < run.info.start_time) runs.set(step, run);
  }
  return runs;
}

export async function getPipelineRun(client: TrackingClient, runId: string): Promise<PipelineRunInfo> {
  const { run } = await client.getRun({ run_id: runId });
  const pipeline = tagOf(run, PIPELINE_TAGS.pipeline);
  if (pipeline === undefined) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `run ${runId} is not a pipeline run (it has no tag ${PIPELINE_TAGS.pipeline})`,
    );
  }
  if (tagOf(run, PIPELINE_TAGS.step) !== undefined) {
    const parentId = tagOf(run, "mlflow.parentRunId");
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `run ${runId} is the run of step '${tagOf(run, PIPELINE_TAGS.step)}'; its pipeline run is ${parentId ?? "unknown"}`,
    );
  }
  const text = await readArtifactText(client, run.info.artifact_uri, PIPELINE_ARTIFACT);
  const shape = text === undefined ? undefined : (parseJson(text) as PipelineRunShape);
  const byStep = await stepRunsOf(client, run);
  const names = shape ? shape.steps.map((s) => s.name) : [...byStep.keys()];
  for (const name of byStep.keys()) if (!names.includes(name)) names.push(name);
  const steps = names.map((name): PipelineStepInfo => {
    const stepRun = byStep.get(name);
    const needs = shape?.steps.find((s) => s.name === name)?.needs ?? [];
    if (!stepRun) {
      return { name, needs, status: run.info.status === "RUNNING" ? "PENDING" : "SKIPPED", cached: false };
    }
    const attempts = tagOf(stepRun, PIPELINE_TAGS.attempts);
    const cacheSource = tagOf(stepRun, PIPELINE_TAGS.cacheSource);
    const error = tagOf(stepRun, PIPELINE_TAGS.error);
    return {
      name,
      needs,
      status: stepRun.info.status,
      run: stepRun,
      cached: tagOf(stepRun, PIPELINE_TAGS.cached) === "true",
      ...(cacheSource === undefined ? {} : { cacheSource }),
      ...(attempts === undefined ? {} : { attempts: Number(attempts) }),
      ...(error === undefined ? {} : { error }),
    };
  });
  const cancelRequested = tagOf(run, PIPELINE_TAGS.cancelRequested);
  const error = tagOf(run, PIPELINE_TAGS.error);
  return {
    pipeline,
    run,
    shape,
    steps,
    ...(cancelRequested === undefined ? {} : { cancelRequested }),
    ...(error === undefined ? {} : { error }),
  };
}

/** A step run's `step.log` ("" when it has none yet). */
export async function readStepLog(client: TrackingClient, stepRun: Run): Promise<string> {
  return (await readArtifactText(client, stepRun.info.artifact_uri, STEP_LOG_ARTIFACT)) ?? "";
}
