/**
 * Cancelling a pipeline run from anywhere: `requestPipelineCancel` sets the tag
 * `slipway.pipeline.cancel_requested` on the pipeline run; whoever runs it (the runner, and each worker
 * running one of its steps) reads the run's tags every `intervalMs` and aborts when the tag appears. The
 * tracking server is the only channel, so this works whatever the executor and wherever it runs.
 */
import { MlflowError, type Run } from "@slipway/protocol";
import type { TrackingClient } from "../client.js";
import { PipelineCancelledError } from "./errors.js";
import { tagOf } from "./step-cache.js";
import { PIPELINE_TAGS } from "./tags.js";

/** Asks the run to stop. Throws when `runId` is not a pipeline run or has already ended. */
export async function requestPipelineCancel(client: TrackingClient, runId: string, reason = "cancelled"): Promise<Run> {
  const { run } = await client.getRun({ run_id: runId });
  const pipeline = tagOf(run, PIPELINE_TAGS.pipeline);
  if (pipeline === undefined || tagOf(run, PIPELINE_TAGS.step) !== undefined) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `run ${runId} is not a pipeline run (it has no tag ${PIPELINE_TAGS.pipeline})`,
    );
  }
  if (run.info.status !== "RUNNING") {
    throw new MlflowError("INVALID_STATE", `pipeline run ${runId} (${pipeline}) has already ended: ${run.info.status}`);
  }
  await client.setTag({
    run_id: runId,
    key: PIPELINE_TAGS.cancelRequested,
    value: `${new Date().toISOString()} ${reason}`.slice(0, 500),
  });
  return run;
}

export interface CancelWatch {
  /** Aborted (with a `PipelineCancelledError`) once the run's cancel tag is seen, or `also` aborts. */
  readonly signal: AbortSignal;
  stop(): void;
}

export interface WatchCancelOptions {
  /** Default 1000 ms. */
  readonly intervalMs?: number;
  /** Also cancel when this aborts (e.g. the caller's own signal). */
  readonly also?: AbortSignal;
  /** Told when reading the run fails (it is read again at the next interval). */
  readonly onError?: (error: unknown) => void;
}

export function watchPipelineCancel(
  client: TrackingClient,
  runId: string,
  options: WatchCancelOptions = {},
): CancelWatch {
  const controller = new AbortController();
  const abort = (why: string) => {
    if (!controller.signal.aborted) controller.abort(new PipelineCancelledError(why));
  };
  const onAlso = () => abort("pipeline run cancelled by its caller");
  if (options.also?.aborted) onAlso();
  options.also?.addEventListener("abort", onAlso, { once: true });
  let busy = false;
  const poll = async () => {
    if (busy || controller.signal.aborted) return;
    busy = true;
    try {
      const { run } = await client.getRun({ run_id: runId });
      const requested = tagOf(run, PIPELINE_TAGS.cancelRequested);
      if (requested !== undefined) abort(`pipeline run cancelled (${requested})`);
    } catch (error) {
      options.onError?.(error);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), options.intervalMs ?? 1000);
  timer.unref();
  return {
    signal: controller.signal,
    stop: () => {
      clearInterval(timer);
      options.also?.removeEventListener("abort", onAlso);
    },
  };
}
