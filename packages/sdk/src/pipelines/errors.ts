/**
 * The errors of pipelines. Definition and parameter errors are the caller's mistake (the CLI exits 2 on
 * them); `NonRetryableError` is what a step throws when another attempt could not do better.
 */

/** A pipeline that cannot run as written: a bad name, an unknown dependency, a cycle, a bad option. */
export class PipelineDefinitionError extends Error {
  override readonly name: string = "PipelineDefinitionError";
}

/** A run-time parameter the pipeline does not declare, or a value of the wrong type. */
export class PipelineParamError extends PipelineDefinitionError {
  override readonly name: string = "PipelineParamError";
}

/** Thrown by a step to fail at once, without the retries it has left. */
export class NonRetryableError extends Error {
  override readonly name: string = "NonRetryableError";
}

/** An attempt that ran longer than its step's `timeoutMs`. */
export class StepTimeoutError extends Error {
  override readonly name: string = "StepTimeoutError";
}

/** The pipeline run was cancelled (`slipway pipeline cancel`, or the caller's signal). */
export class PipelineCancelledError extends Error {
  override readonly name: string = "PipelineCancelledError";
}

/** A one-line description of anything thrown. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : `${error.message}`;
  return String(error);
}
