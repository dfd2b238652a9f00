/**
 * The error of `@slipway/ml` for bad input: empty or single-class training sets, NaN features,
 * mismatched lengths, unknown columns. The message names the problem; callers show it as it is.
 */
export class MlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MlError";
  }
}
