/**
 * What pipeline runs record, by name: the tags of the pipeline run and of each step's run, and the
 * artifacts they write. `slipway pipeline status|logs|cancel` and the UI read the same names.
 */
export const PIPELINE_TAGS = {
  /** On the pipeline run and every step run: the pipeline's name. */
  pipeline: "slipway.pipeline",
  /** On a step run: the step's name. */
  step: "slipway.pipeline.step",
  /** On a step run with caching: sha256 of the step's code, inputs and parameters. */
  cacheKey: "slipway.pipeline.cache_key",
  /** On a step run: "true" when its outputs were reused, "false" when it ran. */
  cached: "slipway.pipeline.cached",
  /** On a reused step run: the run whose outputs it reused. */
  cacheSource: "slipway.pipeline.cache_source",
  /** On a step run: sha256 of the step function's source text. */
  codeDigest: "slipway.pipeline.code_digest",
  /** On a step run: attempts made. */
  attempts: "slipway.pipeline.attempts",
  /** On a failed run: why (one line, truncated). */
  error: "slipway.pipeline.error",
  /** On the pipeline run: manual, schedule, alert or registry. */
  trigger: "slipway.pipeline.trigger",
  /** On the pipeline run: the firing that started it (`alert:12`), absent for manual runs. */
  triggerId: "slipway.pipeline.trigger_id",
  /** On the pipeline run: the executor (local, bullmq). On a step run: the host and process that ran it. */
  executor: "slipway.pipeline.executor",
  worker: "slipway.pipeline.worker",
  /** On the pipeline run: set by `slipway pipeline cancel`; the runner stops when it sees it. */
  cancelRequested: "slipway.pipeline.cancel_requested",
} as const;

/** Artifacts: the step's outputs (JSON), its log lines, and the pipeline's shape on the pipeline run. */
export const OUTPUTS_ARTIFACT = "outputs.json";
export const STEP_LOG_ARTIFACT = "step.log";
export const PIPELINE_ARTIFACT = "pipeline.json";

/** MLflow allows 5000 characters in a tag value (and 8000 on newer servers): keep well below. */
export function tagValue(text: string, max = 1000): string {
  const oneLine = text.replace(/\s*\n\s*/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
