/** What every protocol adapter's handlers share: the served models and the server's settings. */
import type { FastifyRequest } from "fastify";
import type { ServedPrediction } from "../serving/inference-logger.js";
import type { ModelSet } from "../serving/model-set.js";

export interface ServingContext {
  models: ModelSet;
  /** The server's version (`/version`, KServe's server metadata). */
  version: string;
  /** Largest request body accepted, in bytes (the 413 message names it). */
  bodyLimit: number;
  /**
   * Set when the inference log is on: handlers hand over each prediction they answer with, and the app
   * offers it to the log once the response is sent (with the request's id and latency).
   */
  recordPrediction?: (request: FastifyRequest, served: ServedPrediction) => void;
}
