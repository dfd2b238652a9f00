/**
 * Turning HTTP error answers into `MlflowError`s. A JSON body `{"error_code", "message"}` keeps its
 * code and the real status; anything else (Flask's HTML 404, a proxy's 502 page, an empty body)
 * gets the code that MLflow pairs with that status.
 */
import { MlflowError, parseJson } from "@slipway/protocol";

const CODE_FOR_STATUS: Readonly<Record<number, string>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  // Unknown routes and RPCs without an OSS handler answer 404 with HTML or an empty body.
  404: "ENDPOINT_NOT_FOUND",
  409: "RESOURCE_CONFLICT",
  429: "REQUEST_LIMIT_EXCEEDED",
  499: "CANCELLED",
  500: "INTERNAL_ERROR",
  501: "NOT_IMPLEMENTED",
  502: "TEMPORARILY_UNAVAILABLE",
  503: "TEMPORARILY_UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** The MLflow error code for a bare HTTP status. */
export function codeForStatus(status: number): string {
  const known = CODE_FOR_STATUS[status];
  if (known) return known;
  if (status >= 500) return "INTERNAL_ERROR";
  return "BAD_REQUEST";
}

const SNIPPET_CHARS = 300;

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}...` : flat;
}

/** Builds the error for a non-2xx answer from its status, status text and body text. */
export function errorFromResponse(input: {
  status: number;
  statusText?: string;
  body: string;
  method: string;
  url: string;
}): MlflowError {
  const { status, body } = input;
  let parsed: unknown;
  try {
    parsed = body.trim() === "" ? undefined : parseJson(body);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    if (typeof record.error_code === "string" && record.error_code !== "") {
      const message = typeof record.message === "string" ? record.message : snippet(body);
      return new MlflowError(record.error_code, message, { status });
    }
  }
  const reason = input.statusText ? ` ${input.statusText}` : "";
  const detail = body.trim() === "" ? "" : `: ${snippet(body)}`;
  return new MlflowError(
    codeForStatus(status),
    `${input.method} ${input.url} answered HTTP ${status}${reason}${detail}`,
    {
      status,
    },
  );
}
