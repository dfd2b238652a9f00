/**
 * Deployments: definitions (create, list, get, update, delete), the statistics model servers report, and the
 * decisions on a canary — step up, hold, promote (the primary's alias moves to the canary's version, with the reason
 * in the alias history), roll back (weight 0, alias untouched) — each recorded with its reason, its time and the
 * statistics it was made on. Knows nothing of HTTP; the routes, the controller and the tests call it.
 */
import { randomUUID } from "node:crypto";
import {
  DEPLOYMENT_LATENCY_BOUNDS_MS,
  DeploymentDecisionInput,
  DeploymentInput,
  DeploymentStatsReport,
  DeploymentUpdate,
  MlflowError,
  checkRequest,
  invalidParameter,
  notFound,
  type Deployment,
  type DeploymentEvent,
  type ServedVersionState,
  type VersionStatsSummary,
} from "@slipway/protocol";
import type { SqlDb } from "../../platform/db/sql-db.js";
import type { RegistryService } from "../registry/registry-service.js";
import { canaryTraffic, decideCanary, type CanaryDecision } from "./canary-policy.js";
import {
  canarySettings,
  checkDeploymentName,
  resolveCanary,
  resolveRef,
  resolveShadow,
  shadowSettings,
  type Primary,
} from "./deployment-definition.js";
import { roleTotals, summarize, weightText } from "./deployment-stats.js";
import {
  DeploymentStore,
  type DeploymentDefinition,
  type DeploymentRow,
  type NewEvent,
  type RoutingChange,
} from "./deployment-store.js";
import {
  decodeToken,
  definitionOf,
  deploymentView,
  encodeToken,
  maxResults,
  serverView,
  toEvent,
} from "./deployment-view.js";

export interface DeploymentServiceDeps {
  db: SqlDb;
  registry: RegistryService;
  now?: () => number;
  /** Unexpected errors (the controller's); default: nowhere. */
  log?: (message: string, error: unknown) => void;
}

/** How long a `promoting` canary may stay so before another pass finishes its promotion (a crashed replica). */
const PROMOTION_STALE_MS = 10_000;
/** Servers listed by `getDeployment`: those that reported this recently. */
const SERVER_RECENT_MS = 60_000;
/** Statistics rows older than this are folded together (see `compact`). */
const COMPACT_AGE_MS = 60_000;

export class DeploymentService {
  private readonly store: DeploymentStore;
  private readonly registry: RegistryService;
  private readonly now: () => number;

  constructor(private readonly deps: DeploymentServiceDeps) {
    this.store = new DeploymentStore(deps.db);
    this.registry = deps.registry;
    this.now = deps.now ?? Date.now;
  }

  // ---------------------------------------------------------------- definitions

  async create(body: unknown): Promise<Deployment> {
    const input = checkRequest(DeploymentInput, body ?? {});
    const name = checkDeploymentName(input.name);
    const resolved = await resolveRef(this.registry, input.model_uri, "model_uri");
    const primary: Primary = {
      name: resolved.ref.name,
      version: resolved.version,
      ...("alias" in resolved.ref ? { alias: resolved.ref.alias } : {}),
    };
    const canary = input.canary ? await resolveCanary(this.registry, input.canary, primary) : undefined;
    const shadow = input.shadow
      ? await resolveShadow(
          this.registry,
          input.shadow,
          primary,
          canary ? { name: canary.ref.name, version: canary.version } : undefined,
        )
      : undefined;
    if (canary && primary.alias !== undefined) await this.checkOneCanary(primary.name, primary.alias);
    const now = this.now();
    const def: DeploymentDefinition = {
      ...(input.canary ? { canary: canarySettings(input.canary) } : {}),
      ...(input.shadow ? { shadow: shadowSettings(input.shadow) } : {}),
    };
    const row: DeploymentRow = {
      deployment_id: randomUUID().replace(/-/g, ""),
      name,
      model_uri: input.model_uri,
      model_name: primary.name,
      model_alias: primary.alias ?? null,
      model_version: primary.alias === undefined ? primary.version : null,
      definition: JSON.stringify(def),
      canary_version: canary?.version ?? null,
      canary_state: canary ? "running" : null,
      canary_weight: def.canary?.initial_weight ?? 0,
      canary_base_version: canary ? primary.version : null,
      canary_started_at: canary ? now : null,
      canary_ended_at: null,
      canary_reason: null,
      held_intervals: 0,
      shadow_version: shadow?.version ?? null,
      shadow_state: shadow ? "running" : null,
      shadow_started_at: shadow ? now : null,
      shadow_error: null,
      revision: 1,
      step_started_at: now,
      creation_timestamp: now,
      last_updated_timestamp: now,
    };
    const parts = [`primary ${input.model_uri} (version ${primary.version})`];
    if (canary) parts.push(`canary ${canary.uri} (version ${canary.version}) at ${weightText(row.canary_weight)}`);
    if (shadow) parts.push(`shadow ${shadow.uri} (version ${shadow.version})`);
    const inserted = await this.store.insert(row, { kind: "created", reason: parts.join(", "), ...canaryEvent(row) });
    if (!inserted) throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Deployment '${name}' already exists.`);
    return this.toDeployment(row, false);
  }

  async get(name: string): Promise<Deployment> {
    return this.toDeployment(await this.stored(name), true);
  }

  async list(query: Record<string, unknown>): Promise<{ deployments: Deployment[]; next_page_token?: string }> {
    const limit = maxResults(query.max_results);
    const after = decodeToken(query.page_token, (v): v is string => typeof v === "string");
    const rows = await this.store.list({
      ...(typeof query.model_name === "string" ? { modelName: query.model_name } : {}),
      ...(after === undefined ? {} : { after }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      deployments: await Promise.all(page.map((row) => this.toDeployment(row, false))),
      ...(rows.length > limit ? { next_page_token: encodeToken(page.at(-1)!.name) } : {}),
    };
  }

  /** Starts a new canary (when none runs) or shadow, or removes one (`null`). */
  async update(name: string, body: unknown): Promise<Deployment> {
    const input = checkRequest(DeploymentUpdate, body ?? {});
    const row = await this.stored(name);
    const def = definitionOf(row);
    const primary = await this.primaryOf(row);
    const set: RoutingChange = {};
    const said: string[] = [];
    const canaryActive = row.canary_state === "running" || row.canary_state === "promoting";
    let canaryRef: { name: string; version: string } | undefined =
      row.canary_version !== null && canaryActive ? { name: row.model_name, version: row.canary_version } : undefined;
    const now = this.now();
    if (input.canary !== undefined) {
      if (canaryActive) {
        throw new MlflowError(
          "INVALID_STATE_TRANSITION",
          `Deployment '${name}' is running a canary (version ${row.canary_version} at ${weightText(row.canary_weight)}); promote it or roll it back first.`,
        );
      }
      if (input.canary === null) {
        delete def.canary;
        Object.assign(set, {
          canary_version: null,
          canary_state: null,
          canary_weight: 0,
          canary_base_version: null,
          canary_started_at: null,
          canary_ended_at: null,
          canary_reason: null,
        });
        said.push("canary removed");
        canaryRef = undefined;
      } else {
        const resolved = await resolveCanary(this.registry, input.canary, primary);
        if (primary.alias !== undefined) await this.checkOneCanary(primary.name, primary.alias, row.deployment_id);
        def.canary = canarySettings(input.canary);
        Object.assign(set, {
          canary_version: resolved.version,
          canary_state: "running",
          canary_weight: def.canary.initial_weight,
          canary_base_version: primary.version,
          canary_started_at: now,
          canary_ended_at: null,
          canary_reason: null,
          held_intervals: 0,
        });
        said.push(`canary ${resolved.uri} (version ${resolved.version}) at ${weightText(def.canary.initial_weight)}`);
        canaryRef = { name: resolved.ref.name, version: resolved.version };
      }
    }
    if (input.shadow !== undefined) {
      if (input.shadow === null) {
        delete def.shadow;
        Object.assign(set, { shadow_version: null, shadow_state: null, shadow_started_at: null, shadow_error: null });
        said.push("shadow removed");
      } else {
        const resolved = await resolveShadow(this.registry, input.shadow, primary, canaryRef);
        def.shadow = shadowSettings(input.shadow);
        Object.assign(set, {
          shadow_version: resolved.version,
          shadow_state: "running",
          shadow_started_at: now,
          shadow_error: null,
        });
        said.push(`shadow ${resolved.uri} (version ${resolved.version})`);
      }
    } else if (canaryRef && row.shadow_state !== null && row.shadow_version === canaryRef.version) {
      const shadowUri = def.shadow?.model_uri ?? "";
      if (parseRefName(shadowUri) === canaryRef.name) {
        throw invalidParameter(
          `The canary and the shadow are both version ${canaryRef.version} of '${canaryRef.name}': a version is either routed to (canary) or mirrored (shadow), not both.`,
        );
      }
    }
    if (said.length === 0) return this.toDeployment(row, true);
    set.definition = JSON.stringify(def);
    const changed = await this.store.change({
      id: row.deployment_id,
      revision: row.revision,
      set,
      bump: true,
      now,
      event: {
        kind: "updated",
        reason: said.join(", "),
        ...(set.canary_version ? { version: set.canary_version, toWeight: set.canary_weight } : {}),
      },
    });
    if (!changed) throw conflict(name);
    return this.get(name);
  }

  async delete(name: string): Promise<void> {
    const row = await this.stored(name);
    await this.store.delete(row.deployment_id);
  }

  async events(
    name: string,
    query: Record<string, unknown>,
  ): Promise<{ events: DeploymentEvent[]; next_page_token?: string }> {
    const row = await this.stored(name);
    const limit = maxResults(query.max_results);
    const before = decodeToken(query.page_token, (v): v is number => typeof v === "number" && Number.isSafeInteger(v));
    const rows = await this.store.events(row.deployment_id, {
      ...(before === undefined ? {} : { before }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      events: page.map((e) => toEvent(e, name)),
      ...(rows.length > limit ? { next_page_token: encodeToken(Number(page.at(-1)!.event_id)) } : {}),
    };
  }

  // ---------------------------------------------------------------- statistics

  /**
   * Stores a model server's report and answers the deployment as it is now. A canary version the server could not
   * load or warm rolls the canary back at once; a shadow that could not is marked failed.
   */
  async report(name: string, body: unknown): Promise<Deployment> {
    const report = checkRequest(DeploymentStatsReport, body ?? {});
    const want = DEPLOYMENT_LATENCY_BOUNDS_MS.length + 1;
    report.entries.forEach((e, i) => {
      if (e.latency_ms.length !== want) {
        throw invalidParameter(
          `Invalid value for parameter 'entries[${i}].latency_ms': ${e.latency_ms.length} counts, expected ${want} (one per bucket of DEPLOYMENT_LATENCY_BOUNDS_MS, and one above the last).`,
        );
      }
    });
    let row = await this.stored(name);
    const now = this.now();
    const serverRevision = report.revision ?? Math.max(0, ...report.entries.map((e) => e.revision));
    await this.store.recordReport({
      id: row.deployment_id,
      revision: row.revision,
      server: report.server,
      reportId: report.report_id,
      entries: report.entries,
      models: report.models,
      serverRevision,
      now,
    });
    for (const model of report.models) {
      if (model.state !== "failed") continue;
      row = await this.onLoadFailure(row, report.server, model, now);
    }
    return this.toDeployment(row, false);
  }

  private async onLoadFailure(
    row: DeploymentRow,
    server: string,
    model: ServedVersionState,
    now: number,
  ): Promise<DeploymentRow> {
    const why = `version ${model.version} failed to load on ${server}${model.error === undefined ? "" : `: ${model.error}`}`;
    if (model.role === "canary" && row.canary_state === "running" && row.canary_version === model.version) {
      await this.rollbackRunning(row, `canary ${why}`, now);
    } else if (model.role === "shadow" && row.shadow_state === "running" && row.shadow_version === model.version) {
      await this.store.change({
        id: row.deployment_id,
        revision: row.revision,
        set: { shadow_state: "failed", shadow_error: why },
        bump: true,
        now,
        event: { kind: "shadow_failed", reason: `shadow ${why}`, version: model.version },
      });
    } else if (!(await this.store.hasEvent(row.deployment_id, "load_failed", model.version, row.step_started_at))) {
      // a primary version that did not load (the old one keeps serving): recorded once per revision
      await this.store.recordEvent(
        row.deployment_id,
        { kind: "load_failed", reason: `${model.role} ${why}`, version: model.version },
        now,
      );
    }
    return (await this.store.byId(row.deployment_id)) ?? row;
  }

  // ---------------------------------------------------------------- decisions

  /** Promotes the running canary now (by hand). */
  async promote(name: string, body: unknown): Promise<Deployment> {
    const input = checkRequest(DeploymentDecisionInput, body ?? {});
    const row = await this.stored(name);
    if (row.canary_state !== "running") throw noCanary(row, "promote");
    const stats = await this.currentStats(row);
    const canary = roleTotals(stats, "canary", row.canary_version!);
    const why = input.reason?.trim() ? input.reason.trim() : "promoted by hand";
    const reason = canary.requests > 0 ? `${why}; ${canaryTraffic(canary, row.canary_weight)}` : why;
    if (!(await this.promoteRunning(row, reason, stats))) throw conflict(name);
    return this.get(name);
  }

  /**
   * Rolls the canary back by hand: a running one goes to weight 0 (the alias stays); a promoted one also moves the
   * alias back to the version it pointed to before the promotion.
   */
  async rollback(name: string, body: unknown): Promise<Deployment> {
    const input = checkRequest(DeploymentDecisionInput, body ?? {});
    const row = await this.stored(name);
    const why = input.reason?.trim() ? input.reason.trim() : "rolled back by hand";
    const now = this.now();
    if (row.canary_state === "running" || row.canary_state === "promoting") {
      if (!(await this.rollbackRunning(row, why, now))) throw conflict(name);
      return this.get(name);
    }
    if (row.canary_state === "promoted" && row.canary_base_version !== null && row.model_alias !== null) {
      await this.registry.setRegisteredModelAlias(
        { name: row.model_name, alias: row.model_alias, version: row.canary_base_version },
        { reason: `deployment ${row.name}: ${why} (canary version ${row.canary_version} was promoted)` },
      );
      const changed = await this.store.change({
        id: row.deployment_id,
        revision: row.revision,
        canaryState: "promoted",
        set: { canary_state: "rolled_back", canary_weight: 0, canary_ended_at: now, canary_reason: why },
        bump: true,
        now,
        event: {
          kind: "rolled_back",
          reason: `${why}: ${row.model_alias} moved back from version ${row.canary_version} to ${row.canary_base_version}`,
          fromWeight: row.canary_weight,
          toWeight: 0,
          version: row.canary_version ?? undefined,
        },
      });
      if (!changed) throw conflict(name);
      return this.get(name);
    }
    throw noCanary(row, "roll back");
  }

  /** The controller's pass over one deployment with a running (or half-promoted) canary. */
  async evaluate(row: DeploymentRow): Promise<CanaryDecision["kind"] | "finished_promotion"> {
    const now = this.now();
    if (row.canary_state === "promoting") {
      if (now - row.last_updated_timestamp < PROMOTION_STALE_MS) return "none";
      await this.finishPromotion(row, row.canary_reason ?? "promotion resumed", now, undefined);
      return "finished_promotion";
    }
    const def = definitionOf(row);
    if (row.canary_state !== "running" || !def.canary || row.canary_version === null) return "none";
    const stats = await this.currentStats(row);
    const decision = decideCanary({
      settings: def.canary,
      version: row.canary_version,
      weight: row.canary_weight,
      stepStartedAt: row.step_started_at,
      heldIntervals: row.held_intervals,
      stats,
      now,
    });
    switch (decision.kind) {
      case "none":
        break;
      case "rollback":
        await this.rollbackRunning(row, decision.reason, now, stats);
        break;
      case "hold":
        await this.store.change({
          id: row.deployment_id,
          revision: row.revision,
          canaryState: "running",
          set: { held_intervals: row.held_intervals + 1, canary_reason: decision.reason },
          bump: false,
          now,
          event: { kind: "hold", reason: decision.reason, version: row.canary_version, stats: JSON.stringify(stats) },
        });
        break;
      case "step":
        await this.store.change({
          id: row.deployment_id,
          revision: row.revision,
          canaryState: "running",
          set: { canary_weight: decision.to, held_intervals: 0, canary_reason: decision.reason },
          bump: true,
          now,
          event: {
            kind: "step",
            reason: decision.reason,
            fromWeight: row.canary_weight,
            toWeight: decision.to,
            version: row.canary_version,
            stats: JSON.stringify(stats),
          },
        });
        break;
      case "promote":
        await this.promoteRunning(row, decision.reason, stats);
        break;
    }
    return decision.kind;
  }

  /**
   * Folds the statistics rows older than `ageMs` of every deployment into one row per (role, version): a deployment
   * whose revision does not move (a shadow, a rolling swap) would otherwise gain a row per server and report.
   */
  async compact(ageMs = COMPACT_AGE_MS): Promise<number> {
    const before = this.now() - ageMs;
    let folded = 0;
    for (const row of await this.store.all()) folded += await this.store.compact(row.deployment_id, before);
    return folded;
  }

  /** Deployments with a running or half-promoted canary. */
  async activeCanaries(): Promise<DeploymentRow[]> {
    return this.store.activeCanaries();
  }

  private async promoteRunning(row: DeploymentRow, reason: string, stats: VersionStatsSummary[]): Promise<boolean> {
    const now = this.now();
    // claim the promotion first: of two replicas, one moves the alias
    const claimed = await this.store.change({
      id: row.deployment_id,
      revision: row.revision,
      canaryState: "running",
      set: { canary_state: "promoting", canary_reason: reason },
      bump: false,
      now,
    });
    if (!claimed) return false;
    await this.finishPromotion({ ...row, canary_state: "promoting" }, reason, now, stats);
    return true;
  }

  /** Moves the alias (unless it is there already) and marks the canary promoted; a failure rolls it back. */
  private async finishPromotion(
    row: DeploymentRow,
    reason: string,
    now: number,
    stats: VersionStatsSummary[] | undefined,
  ): Promise<void> {
    const alias = row.model_alias;
    const version = row.canary_version;
    if (alias === null || version === null) return;
    try {
      const current = await this.aliasVersion(row.model_name, alias);
      if (current !== version) {
        await this.registry.setRegisteredModelAlias({ name: row.model_name, alias, version }, { reason });
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      await this.rollbackRunning(row, `promotion failed (${why}); ${reason}`, now, stats, "promoting");
      return;
    }
    await this.store.change({
      id: row.deployment_id,
      revision: row.revision,
      canaryState: "promoting",
      set: { canary_state: "promoted", canary_weight: 100, canary_ended_at: now, held_intervals: 0 },
      bump: true,
      now,
      event: {
        kind: "promoted",
        reason: `${reason}; ${alias} moved from version ${row.canary_base_version ?? "?"} to ${version}`,
        fromWeight: row.canary_weight,
        toWeight: 100,
        version,
        ...(stats ? { stats: JSON.stringify(stats) } : {}),
      },
    });
  }

  private async rollbackRunning(
    row: DeploymentRow,
    reason: string,
    now: number,
    stats?: VersionStatsSummary[],
    state: "running" | "promoting" = row.canary_state === "promoting" ? "promoting" : "running",
  ): Promise<boolean> {
    const summary = stats ?? (await this.currentStats(row));
    return this.store.change({
      id: row.deployment_id,
      revision: row.revision,
      canaryState: state,
      set: { canary_state: "rolled_back", canary_weight: 0, canary_ended_at: now, canary_reason: reason },
      bump: true,
      now,
      event: {
        kind: "rolled_back",
        reason,
        fromWeight: row.canary_weight,
        toWeight: 0,
        version: row.canary_version ?? undefined,
        stats: JSON.stringify(summary),
      },
    });
  }

  // ---------------------------------------------------------------- reading

  private async stored(name: string): Promise<DeploymentRow> {
    const row = await this.store.byName(name);
    if (!row) throw notFound(`Deployment '${name}' does not exist.`);
    return row;
  }

  private async currentStats(row: DeploymentRow): Promise<VersionStatsSummary[]> {
    return summarize(await this.store.stats(row.deployment_id, row.revision));
  }

  private async aliasVersion(model: string, alias: string): Promise<string | undefined> {
    try {
      const { registered_model } = await this.registry.getRegisteredModel({ name: model });
      return registered_model.aliases?.find((a) => a.alias === alias)?.version;
    } catch (error) {
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  private async primaryOf(row: DeploymentRow): Promise<Primary> {
    if (row.model_alias === null) return { name: row.model_name, version: row.model_version ?? "" };
    const version = await this.aliasVersion(row.model_name, row.model_alias);
    if (version === undefined) {
      throw notFound(
        `The primary of deployment '${row.name}' (${row.model_uri}) points nowhere: the alias '${row.model_alias}' is not set.`,
      );
    }
    return { name: row.model_name, alias: row.model_alias, version };
  }

  private async checkOneCanary(model: string, alias: string, exceptId?: string): Promise<void> {
    const other = await this.store.canaryOnAlias(model, alias, exceptId);
    if (other) {
      throw new MlflowError(
        "RESOURCE_CONFLICT",
        `Deployment '${other.name}' already runs a canary on models:/${model}@${alias} (version ${other.canary_version}); one alias has one canary at a time.`,
      );
    }
  }

  private async toDeployment(row: DeploymentRow, detailed: boolean): Promise<Deployment> {
    const primaryVersion =
      row.model_alias === null
        ? (row.model_version ?? undefined)
        : await this.aliasVersion(row.model_name, row.model_alias);
    const out = deploymentView(row, primaryVersion);
    if (detailed) {
      out.stats = await this.currentStats(row);
      out.servers = (await this.store.servers(row.deployment_id, this.now() - SERVER_RECENT_MS)).map(serverView);
    }
    return out;
  }
}

function canaryEvent(row: DeploymentRow): Pick<NewEvent, "version" | "toWeight"> {
  return row.canary_version === null ? {} : { version: row.canary_version, toWeight: row.canary_weight };
}

function parseRefName(uri: string): string | undefined {
  const m = /^models:\/([^@]+?)(?:@[^@/]+|\/\d+)$/.exec(uri);
  return m?.[1];
}

function conflict(name: string): MlflowError {
  return new MlflowError(
    "RESOURCE_CONFLICT",
    `Deployment '${name}' changed while this request was handled (another decision came first); read it again and retry.`,
  );
}

function noCanary(row: DeploymentRow, what: string): MlflowError {
  const state =
    row.canary_state === null
      ? "has no canary"
      : `has no running canary (its canary, version ${row.canary_version}, was ${row.canary_state === "promoted" ? "promoted" : "rolled back"})`;
  return new MlflowError("INVALID_STATE_TRANSITION", `Deployment '${row.name}' ${state}: nothing to ${what}.`);
}
