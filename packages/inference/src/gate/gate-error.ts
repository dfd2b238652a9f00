/**
 * A gate that cannot be evaluated as asked: a malformed or unknown model URI, data without the label
 * column, a metric that does not apply to the models, models with different signatures. The CLI answers
 * it as a usage error (exit 2), distinct from a candidate that fails the gate (exit 1).
 */
export class GateUsageError extends Error {
  override readonly name = "GateUsageError";
}
