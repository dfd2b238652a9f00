/** What every protocol adapter's handlers share: the served models and the server's settings. */
import type { FastifyRequest } from "fastify";
import type { RawInput } from "../input/raw-input.js";
import type { InputBatch, PredictionBatch } from "../predictors/predictor.js";
import type { ServedPrediction } from "../serving/inference-logger.js";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import { pathParams } from "./route.js";

/** A request's prediction and the model version that made it. */
export interface RoutedPrediction {
  model: ServedModel;
  input: InputBatch;
  prediction: PredictionBatch;
}

/**
 * Chooses which version answers a request for a served model (deployments: canary, shadow). `predict` gets the
 * model the request resolved to and answers with the version that made the prediction.
 */
export interface PredictionRouter {
  predict(requestId: string, model: ServedModel, raw: RawInput, params: unknown): Promise<RoutedPrediction>;
}

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
  /** Set when the server follows a deployment. */
  router?: PredictionRouter;
}

/**
 * Predicts a request on `model`, or on the version the router picks for it. A request that names a version
 * (`/v2/models/{name}/versions/{v}/infer`) gets that version: it is never routed elsewhere.
 */
export async function predictRouted(
  ctx: ServingContext,
  request: FastifyRequest,
  model: ServedModel,
  raw: RawInput,
  params: unknown,
): Promise<RoutedPrediction> {
  if (ctx.router === undefined || pathParams(request).version !== undefined) {
    const { input, prediction } = await model.predictWithInput(raw, params);
    return { model, input, prediction };
  }
  return ctx.router.predict(request.id, model, raw, params);
}
