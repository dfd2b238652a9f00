/**
 * Why a data plane refused a caller, independent of any protocol: each server writes it in its own
 * format (the model server as MLflow's `{error_code, message}` with 401 / 403 / 503, the LLM server as
 * OpenAI's `{"error": {...}}`).
 */
export type AuthFailureReason =
  /** No credentials, or credentials that the keys file and the control plane both reject (401). */
  | "unauthenticated"
  /** A known caller without access to the model (403 on the model server; 404 on the LLM server). */
  | "forbidden"
  /** The control plane could not be asked (unreachable, timed out, answered 5xx): never allow (503). */
  | "unavailable";

export class DataPlaneAuthError extends Error {
  override readonly name = "DataPlaneAuthError";

  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The `WWW-Authenticate` challenge sent with a 401: the schemes the server takes. */
export function authChallenge(schemes: readonly ("bearer" | "basic")[]): string {
  return schemes.map((s) => (s === "bearer" ? 'Bearer realm="slipway"' : 'Basic realm="slipway"')).join(", ");
}
