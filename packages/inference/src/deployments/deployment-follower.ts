/**
 * A model server following a deployment (`slipway serve --deployment NAME`). The primary is served and hot-swapped
 * as any model served by alias (`AliasFollower`: load beside, warm, swap, drain); this follower adds the rest:
 *
 * - every `report_interval_ms` it sends the traffic counted since the last report (`VersionStats`) and the state of
 *   the versions it holds to the control plane (`POST …/deployments/{name}/stats`), and applies the deployment the
 *   answer carries: the canary's weight, a new canary or shadow, a promotion, a rollback;
 * - a canary or shadow version is loaded and warmed beside the primary before any request is routed to it. One that
 *   fails to load or warm is never routed to; the failure goes to the control plane with the next report (which
 *   rolls the canary back) and the same version is not tried again. The primary keeps serving throughout;
 * - a promoted canary is already warm: it is swapped in as the primary (the old one drains); when the alias
 *   follower got there first, the canary copy is just closed. A rolled-back canary stops getting requests at once
 *   and is closed once its running requests are done;
 * - when the control plane cannot be reached, routing stays as it is and the counts are kept for the next report;
 *   when the deployment is deleted, the canary and the shadow are dropped and the primary keeps serving.
 */
import { randomUUID } from "node:crypto";
import {
  MlflowError,
  type Deployment,
  type DeploymentStatsReport,
  type ServedVersionState,
  type VersionStatsEntry,
} from "@slipway/protocol";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import type { DeploymentMetrics } from "./deployment-metrics.js";
import type { DeploymentsClient } from "./deployments-client.js";
import type { DeploymentRouter } from "./router.js";
import { ShadowRunner } from "./shadow.js";
import type { VersionStats } from "./version-stats.js";

export interface DeploymentFollowerOptions {
  /** The deployments API (short timeout, no retries: a missed report is sent with the next). */
  api: DeploymentsClient;
  deployment: string;
  models: ModelSet;
  /** The served name of the primary. */
  servedName: string;
  router: DeploymentRouter;
  stats: VersionStats;
  /** Loads and warms `uri` to be served as `name`. */
  load: (model: { uri: string; name: string; source: string }) => Promise<ServedModel>;
  /** This server in reports (`host:port`). */
  server: string;
  metrics?: DeploymentMetrics;
  /** One line per change of routing, failure, or lost connection. */
  onReport?: (line: string) => void;
  /** Overrides the deployment's report interval (tests). */
  reportIntervalMs?: number;
}

interface Held {
  version: string;
  state: "loading" | "ready" | "failed";
  model?: ServedModel;
  shadow?: ShadowRunner;
  error?: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class DeploymentFollower {
  private current: Deployment | undefined;
  private canary: Held | undefined;
  private shadow: Held | undefined;
  /** `role/version` → why it failed: never loaded again. */
  private readonly failed = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly loads = new Set<Promise<void>>();
  private readonly bootId = randomUUID().slice(0, 8);
  private seq = 0;
  private deleted = false;
  private unreachable = false;

  constructor(private readonly options: DeploymentFollowerOptions) {}

  /** Applies `initial` (as fetched before the primary was loaded) and starts reporting. */
  start(initial: Deployment): void {
    this.apply(initial);
    this.schedule();
  }

  private get interval(): number {
    return this.options.reportIntervalMs ?? this.current?.report_interval_ms ?? 2000;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => {
        this.loop = undefined;
        this.schedule();
      });
    }, this.interval);
    this.timer.unref();
  }

  /** Sends one report and applies the answer (tests call it directly). */
  async tick(): Promise<void> {
    const entries = this.options.stats.drain();
    const report: DeploymentStatsReport = {
      server: this.options.server,
      report_id: `${this.options.server}/${this.bootId}/${++this.seq}`,
      revision: this.options.router.routing.revision,
      entries,
      models: this.states(),
    };
    let deployment: Deployment;
    try {
      deployment = await this.options.api.report(this.options.deployment, report);
    } catch (error) {
      this.restore(entries);
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") {
        if (!this.deleted) {
          this.deleted = true;
          this.say(`deployment '${this.options.deployment}' was deleted; serving the primary only`);
        }
        this.dropExtras();
        return;
      }
      if (!this.unreachable) {
        this.unreachable = true;
        this.say(`cannot report to the control plane (${errorText(error)}); routing stays as it is`);
      }
      return;
    }
    if (this.unreachable || this.deleted) this.say(`deployment '${this.options.deployment}' reachable again`);
    this.unreachable = false;
    this.deleted = false;
    this.apply(deployment);
  }

  /** Counts of a report that did not get through go with the next one. */
  private restore(entries: readonly VersionStatsEntry[]): void {
    for (const e of entries) this.options.stats.merge(e);
  }

  private states(): ServedVersionState[] {
    const out: ServedVersionState[] = [];
    const primary = this.options.models.get(this.options.servedName);
    if (primary?.version !== undefined) out.push({ role: "primary", version: primary.version, state: "ready" });
    for (const [role, held] of [
      ["canary", this.canary],
      ["shadow", this.shadow],
    ] as const) {
      if (!held) continue;
      out.push({
        role,
        version: held.version,
        state: held.state,
        ...(held.error === undefined ? {} : { error: held.error.slice(0, 2000) }),
      });
    }
    return out;
  }

  /** Brings what this server holds and routes in line with `d`. */
  private apply(d: Deployment): void {
    const before = this.current;
    this.current = d;
    const registered = d.model_name;
    // canary
    const c = d.canary;
    if (c && (c.state === "running" || c.state === "promoting")) {
      if (this.canary?.version !== c.version) {
        this.release("canary");
        this.canary = this.hold("canary", c.version, `models:/${registered}/${c.version}`);
      }
    } else if (c && c.state === "promoted" && this.canary?.version === c.version && this.canary.model) {
      this.promote(this.canary.model);
      this.canary = undefined;
    } else if (this.canary) {
      if (c?.state === "rolled_back" && c.version === this.canary.version) {
        this.say(`canary version ${c.version} rolled back: ${c.reason ?? ""}`.trimEnd());
      }
      this.release("canary");
    }
    // shadow
    const s = d.shadow;
    if (s && s.state === "running") {
      if (this.shadow?.version !== s.version) {
        this.release("shadow");
        const ref = /^models:\/([^@]+?)(?:@[^@/]+|\/\d+)$/.exec(s.model_uri);
        this.shadow = this.hold("shadow", s.version, `models:/${ref?.[1] ?? registered}/${s.version}`, s.max_queue);
      }
    } else if (this.shadow) {
      this.release("shadow");
    }
    this.route();
    if (before?.canary?.weight !== c?.weight && this.canary?.state === "ready" && c?.state === "running") {
      this.say(`canary version ${c.version} now gets ${c.weight}% of requests`);
    }
  }

  /** Starts loading a version beside the primary (never throws; a failure is kept and reported). */
  private hold(role: "canary" | "shadow", version: string, uri: string, maxQueue = 1000): Held {
    const key = `${role}/${version}`;
    const failure = this.failed.get(key);
    if (failure !== undefined) return { version, state: "failed", error: failure };
    const held: Held = { version, state: "loading" };
    this.say(`loading ${role} ${uri}`);
    const task = this.options
      .load({ uri, name: this.options.servedName, source: uri })
      .then(
        (model) => {
          const mine = role === "canary" ? this.canary : this.shadow;
          if (mine !== held || this.stopped) {
            void model.close();
            return;
          }
          held.model = model;
          if (role === "shadow") held.shadow = this.shadowRunner(model, maxQueue);
          held.state = "ready";
          this.say(`${role} version ${version} loaded and warm`);
          this.route();
        },
        (error: unknown) => {
          held.state = "failed";
          held.error = errorText(error);
          this.failed.set(key, held.error);
          this.say(`${role} version ${version} failed to load; it gets no traffic: ${held.error}`);
        },
      )
      .finally(() => this.loads.delete(task));
    this.loads.add(task);
    return held;
  }

  private shadowRunner(model: ServedModel, maxQueue: number): ShadowRunner {
    const version = model.version ?? "";
    const { stats, metrics } = this.options;
    return new ShadowRunner({
      model,
      maxQueue,
      onOutcome: (o) => {
        stats.record(o.revision, "shadow", version, o.ok ? "ok" : "error", o.ms, o.error);
        metrics?.request("shadow", version, o.ok ? "ok" : "error", o.ms / 1000);
        if (o.ok) {
          stats.compared(o.revision, version, o.rows, o.agreed);
          metrics?.compared(version, o.rows, o.agreed);
        }
      },
      onDrop: (revision) => {
        stats.dropped(revision, version);
        metrics?.drop();
      },
    });
  }

  /** Hands the router what is ready now. */
  private route(): void {
    const d = this.current;
    const canary = this.canary?.state === "ready" ? this.canary.model : undefined;
    const running = d?.canary?.state === "running" || d?.canary?.state === "promoting";
    this.options.router.set({
      revision: d?.revision ?? 0,
      ...(canary && running ? { canary: { model: canary, weight: d.canary!.weight } } : {}),
      ...(this.shadow?.state === "ready" && this.shadow.shadow ? { shadow: this.shadow.shadow } : {}),
    });
  }

  /** The promoted canary becomes the primary (unless the alias follower swapped that version in already). */
  private promote(model: ServedModel): void {
    const primary = this.options.models.get(this.options.servedName);
    this.options.router.set({ revision: this.current?.revision ?? 0 });
    if (primary?.version === model.version) {
      void model.close();
      this.route();
      return;
    }
    this.say(`canary version ${model.version ?? "?"} promoted: it is the primary now (was ${primary?.version ?? "?"})`);
    const swap = this.options.models.replace(model).then(
      () => this.route(),
      (error: unknown) => this.say(`closing the old primary failed: ${errorText(error)}`),
    );
    this.loads.add(swap);
    void swap.finally(() => this.loads.delete(swap));
  }

  /** Stops routing to a canary or shadow and closes it once its running requests are done. */
  private release(role: "canary" | "shadow"): void {
    const held = role === "canary" ? this.canary : this.shadow;
    if (role === "canary") this.canary = undefined;
    else this.shadow = undefined;
    if (!held) return;
    this.route();
    const closing = held.shadow ? held.shadow.close() : held.model?.close();
    if (closing) {
      const task = closing.catch((error: unknown) =>
        this.say(`closing ${role} version ${held.version}: ${errorText(error)}`),
      );
      this.loads.add(task);
      void task.finally(() => this.loads.delete(task));
    }
  }

  private dropExtras(): void {
    this.release("canary");
    this.release("shadow");
  }

  private say(line: string): void {
    this.options.onReport?.(`deployment '${this.options.deployment}': ${line}`);
  }

  /** Stops reporting (routing stays as it is until `close`). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
  }

  /** After the server stopped taking requests: closes the canary and the shadow (draining them). */
  async close(): Promise<void> {
    await this.stop();
    this.release("canary");
    this.release("shadow");
    await Promise.allSettled([...this.loads]);
  }
}
