/**
 * The pieces a model server needs to follow a deployment, put together: the router handed to the HTTP app, the
 * per-version statistics, the Prometheus metrics and the follower that reports to the control plane. Used by
 * `slipway serve --deployment NAME` and the tests.
 *
 * ```ts
 * const deployment = await fetchDeployment(api, "spam");            // before loading: its primary is the URI
 * const served = new ServedDeployment({ api, deployment, models, servedName, load, metrics });
 * const server = await startModelServer({ ..., router: served.router });
 * served.start(`${hostname()}:${port}`);
 * // shutdown: await served.stop(); await server.close(); await served.close();
 * ```
 */
import { MlflowError, type Deployment } from "@slipway/protocol";
import type { InferenceMetrics } from "../serving/metrics.js";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import { DeploymentFollower } from "./deployment-follower.js";
import { DeploymentMetrics } from "./deployment-metrics.js";
import type { DeploymentsClient } from "./deployments-client.js";
import { DeploymentRouter } from "./router.js";
import { VersionStats } from "./version-stats.js";

/** The deployment, or an error that says how to create it. */
export async function fetchDeployment(api: DeploymentsClient, name: string, trackingUri: string): Promise<Deployment> {
  try {
    return await api.get(name);
  } catch (error) {
    if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") {
      throw new MlflowError(
        "RESOURCE_DOES_NOT_EXIST",
        `There is no deployment '${name}' on ${trackingUri}; create it with: slipway deploy create ${name} --model models:/NAME@ALIAS`,
      );
    }
    throw error;
  }
}

export interface ServedDeploymentOptions {
  /** For reports: short timeout, no retries. */
  api: DeploymentsClient;
  deployment: Deployment;
  models: ModelSet;
  /** The served name of the primary. */
  servedName: string;
  load: (model: { uri: string; name: string; source: string }) => Promise<ServedModel>;
  metrics?: InferenceMetrics;
  onReport?: (line: string) => void;
  /** Overrides the deployment's report interval (tests). */
  reportIntervalMs?: number;
}

export class ServedDeployment {
  readonly router: DeploymentRouter;
  readonly stats = new VersionStats();
  private readonly metrics: DeploymentMetrics | undefined;
  private follower: DeploymentFollower | undefined;

  constructor(private readonly options: ServedDeploymentOptions) {
    const metrics = options.metrics ? new DeploymentMetrics(options.metrics, options.deployment.name) : undefined;
    this.router = new DeploymentRouter({
      servedName: options.servedName,
      models: options.models,
      stats: this.stats,
      ...(metrics ? { metrics } : {}),
    });
    this.metrics = metrics;
  }

  /** Starts following; `server` names this server in reports (`host:port`). */
  start(server: string): void {
    const o = this.options;
    this.follower = new DeploymentFollower({
      api: o.api,
      deployment: o.deployment.name,
      models: o.models,
      servedName: o.servedName,
      router: this.router,
      stats: this.stats,
      load: o.load,
      server,
      ...(this.metrics ? { metrics: this.metrics } : {}),
      ...(o.onReport ? { onReport: o.onReport } : {}),
      ...(o.reportIntervalMs === undefined ? {} : { reportIntervalMs: o.reportIntervalMs }),
    });
    this.follower.start(o.deployment);
  }

  /** Sends a report now and applies the answer. */
  async report(): Promise<void> {
    await this.follower?.tick();
  }

  /** Stops reporting; routing stays until `close`. */
  async stop(): Promise<void> {
    await this.follower?.stop();
  }

  /** Closes the canary and the shadow (after the server stopped taking requests). */
  async close(): Promise<void> {
    await this.follower?.close();
  }
}
