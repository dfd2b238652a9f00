/**
 * Sorting whatever a request threw into an `InferenceError` a protocol can write: our own errors as they
 * are; a predictor's input error as a 400; Fastify's own client errors (body too large → 413, bad
 * content type → 415...) with their status; everything else as a 500 that is logged, never shown in detail.
 */
import { MlflowError } from "@slipway/protocol";
import { InferenceError, bodyTooLarge } from "../errors.js";
import { PredictorError } from "../predictors/predictor.js";

export interface ClassifiedError {
  error: InferenceError;
  /** True for errors of ours (500s): the caller logs them. */
  internal: boolean;
}

interface FastifyClientError {
  statusCode?: number;
  code?: string;
  message?: string;
}

export function classifyError(error: unknown, bodyLimit: number): ClassifiedError {
  if (error instanceof InferenceError) return { error, internal: error.status >= 500 && error.status !== 503 };
  if (error instanceof PredictorError)
    return { error: new InferenceError("BAD_REQUEST", error.message), internal: false };
  if (error instanceof MlflowError) {
    return {
      error: new InferenceError("BAD_REQUEST", error.message, { status: error.status }),
      internal: error.status >= 500,
    };
  }
  const e = (error ?? {}) as FastifyClientError;
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE" || e.statusCode === 413) {
    return { error: bodyTooLarge(bodyLimit), internal: false };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      error: new InferenceError("BAD_REQUEST", e.message ?? "Bad request", { status: e.statusCode }),
      internal: false,
    };
  }
  return {
    error: new InferenceError("INTERNAL_ERROR", "Internal error while serving the request; see the server log", {
      cause: error,
    }),
    internal: true,
  };
}

/** `application/json; charset=utf-8` → mime type and parameters (lower-cased names). */
export interface ContentType {
  readonly mime: string;
  readonly params: Readonly<Record<string, string>>;
}

const JSON_TYPE: ContentType = Object.freeze({ mime: "application/json", params: Object.freeze({}) });

export function parseContentType(header: string | undefined): ContentType {
  if (header === "application/json") return JSON_TYPE;
  if (header === undefined || header === "") return { mime: "", params: {} };
  const semi = header.indexOf(";");
  if (semi === -1) return { mime: header.trim().toLowerCase(), params: {} };
  const params: Record<string, string> = {};
  for (const part of header.slice(semi + 1).split(";")) {
    const eq = part.indexOf("=");
    const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === "") continue;
    params[key] =
      eq === -1
        ? ""
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, "$1");
  }
  return { mime: header.slice(0, semi).trim().toLowerCase(), params };
}

/** A body that must be JSON: its text, or a 400 when Fastify handed over something else. */
export function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body === undefined || body === null) return "";
  throw new InferenceError("BAD_REQUEST", "The request body could not be read as text");
}
