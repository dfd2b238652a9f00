/**
 * Per-request routing for a deployment's served model:
 *
 * - **canary**: `weight`% of requests go to the canary version, chosen by a hash of the request id (the client's
 *   `x-request-id`, else a fresh UUID), so a retry with the same id goes the same way. A request the canary fails
 *   (any error: it throws, it is overloaded, it refuses the input) is answered by the primary instead: the client
 *   never sees a canary failure. The failure is counted against the canary unless the primary refuses the request
 *   for its input too (then it was the request's fault);
 * - **shadow**: after the primary answered, a copy goes to the shadow (see shadow.ts), never delaying or failing
 *   the response;
 * - everything else is answered by the primary, the model the request resolved to (after a hot swap, the new one).
 *
 * Every answer is counted per (revision, role, version) for the control plane (`VersionStats`) and in Prometheus.
 * Requests for other served models, and requests naming a version, pass through untouched.
 */
import { MlflowError, type DeploymentRole } from "@slipway/protocol";
import type { PredictionRouter, RoutedPrediction } from "../http/context.js";
import type { RawInput } from "../input/raw-input.js";
import { PredictorError } from "../predictors/predictor.js";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import type { DeploymentMetrics, Outcome } from "./deployment-metrics.js";
import type { ShadowRunner } from "./shadow.js";
import type { VersionStats } from "./version-stats.js";

/** Resolution of the canary weight: 1/100 of a percent. */
const BUCKETS = 10_000;

/** FNV-1a (32 bits) of the request id, in [0, BUCKETS). */
export function routingBucket(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

/** An answer that says the request was at fault (its input), not the version that refused it. */
export function isClientError(error: unknown): boolean {
  if (error instanceof PredictorError) return true;
  if (error instanceof MlflowError) return error.status >= 400 && error.status < 500 && error.status !== 429;
  return false;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface Routing {
  /** The deployment revision these settings belong to (statistics are tagged with it). */
  revision: number;
  /** The canary and its share of requests, percent (0–100). */
  canary?: { model: ServedModel; weight: number } | undefined;
  shadow?: ShadowRunner | undefined;
}

export interface DeploymentRouterOptions {
  /** The served name of the deployment's primary (other models pass through). */
  servedName: string;
  models: ModelSet;
  stats: VersionStats;
  metrics?: DeploymentMetrics;
}

export class DeploymentRouter implements PredictionRouter {
  private revision = 0;
  private canary: ServedModel | undefined;
  private threshold = 0;
  private shadow: ShadowRunner | undefined;

  constructor(private readonly options: DeploymentRouterOptions) {}

  /** Applies new routing; requests already running finish on what they started with. */
  set(routing: Routing): void {
    this.revision = routing.revision;
    this.canary = routing.canary?.model;
    const weight = routing.canary ? Math.min(100, Math.max(0, routing.canary.weight)) : 0;
    this.threshold = Math.round(weight * (BUCKETS / 100));
    this.shadow = routing.shadow;
    this.options.metrics?.setWeight(routing.canary ? weight : 0);
  }

  get routing(): { revision: number; canaryVersion?: string; weight: number; shadowVersion?: string } {
    return {
      revision: this.revision,
      ...(this.canary?.version === undefined ? {} : { canaryVersion: this.canary.version }),
      weight: (this.threshold * 100) / BUCKETS,
      ...(this.shadow?.model.version === undefined ? {} : { shadowVersion: this.shadow.model.version }),
    };
  }

  private count(role: DeploymentRole, model: ServedModel, outcome: Outcome, ms: number, error?: unknown): void {
    const version = model.version ?? "";
    this.options.stats.record(
      this.revision,
      role,
      version,
      outcome,
      ms,
      error === undefined ? undefined : message(error),
    );
    this.options.metrics?.request(role, version, outcome, ms / 1000);
  }

  async predict(requestId: string, model: ServedModel, raw: RawInput, params: unknown): Promise<RoutedPrediction> {
    if (model.name !== this.options.servedName) {
      const { input, prediction } = await model.predictWithInput(raw, params);
      return { model, input, prediction };
    }
    const canary = this.canary;
    let canaryFailure: { error: unknown; ms: number } | undefined;
    if (canary !== undefined && this.threshold > 0 && routingBucket(requestId) < this.threshold) {
      const started = performance.now();
      try {
        const { input, prediction } = await canary.predictWithInput(raw, params);
        this.count("canary", canary, "ok", performance.now() - started);
        return { model: canary, input, prediction };
      } catch (error) {
        canaryFailure = { error, ms: performance.now() - started };
      }
    }
    // after a failed canary attempt the primary may have been swapped meanwhile: take the one served now
    const primary = canaryFailure ? (this.options.models.get(model.name) ?? model) : model;
    const started = performance.now();
    let result;
    try {
      result = await primary.predictWithInput(raw, params);
    } catch (error) {
      const ms = performance.now() - started;
      const clientFault = isClientError(error);
      this.count("primary", primary, clientFault ? "client_error" : "error", ms, error);
      if (canaryFailure && canary) {
        const both = clientFault && isClientError(canaryFailure.error);
        this.count("canary", canary, both ? "client_error" : "error", canaryFailure.ms, canaryFailure.error);
      }
      throw error;
    }
    this.count("primary", primary, "ok", performance.now() - started);
    // the canary failed a request the primary answers: that is the canary's failure, whatever its status
    if (canaryFailure && canary) this.count("canary", canary, "error", canaryFailure.ms, canaryFailure.error);
    this.shadow?.offer(this.revision, raw, params, primary, result.prediction);
    return { model: primary, input: result.input, prediction: result.prediction };
  }
}
