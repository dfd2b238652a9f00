/**
 * Searches and lists answered with only what the caller may read (MLflow filters search-experiments and
 * search-registered-models the same way; Slipway also filters model versions, monitors, deployments and alerts).
 *
 * Paging: a page is filled after filtering, so `max_results` still means "this many rows when that many readable
 * ones exist". The service is asked for the first page with the client's own `max_results` (so it validates it
 * and applies its default), then, while the page is short and the service has more, for the next page with
 * `max_results` = the rows still missing. A service page never holds more readable rows than it holds rows, so the
 * page is never overfilled, and the `next_page_token` returned is the service's own token after the last service
 * page read: exact, opaque and unchanged in format. A filtered page may come back empty with a token when the rows
 * after it are all unreadable; following the token goes on from there.
 */
import type { FastifyRequest } from "fastify";
import {
  DEPLOYMENT_LIMITS,
  MONITOR_LIMITS,
  compileValidator,
  monitorRoutes,
  deploymentRoutes,
  registryRoutes,
  trackingRoutes,
} from "@slipway/protocol";
import type { DeploymentService } from "../deployments/deployment-service.js";
import type { MonitorService } from "../monitoring/monitor-service.js";
import type { RegistryService } from "../registry/registry-service.js";
import { REGISTRY_LIMITS } from "../registry/registry-validation.js";
import type { TrackingService } from "../tracking/tracking-service.js";
import { LIMITS } from "../tracking/validation.js";
import type { SearchKind } from "./policy.js";
import { requestFields } from "./policy-resources.js";

/** What the caller may read (admins never get here: they see everything, straight from the handler). */
export interface Readable {
  experiment(id: string): boolean;
  model(name: string): boolean;
}

export interface SearchServices {
  tracking: TrackingService;
  registry?: RegistryService;
  monitors?: MonitorService;
  deployments?: DeploymentService;
}

interface Page<T> {
  items: T[];
  next?: string | undefined;
}

type Fetch<T> = (maxResults: number | undefined, pageToken: string | undefined) => Promise<Page<T>>;

/**
 * One page of `limit` readable rows (fewer at the end). `requested` is the client's own max_results (undefined:
 * the service's default, which `limit` must equal).
 */
export async function fillPage<T>(options: {
  limit: number;
  requested: number | undefined;
  pageToken: string | undefined;
  fetch: Fetch<T>;
  keep: (item: T) => boolean | Promise<boolean>;
}): Promise<Page<T>> {
  const items: T[] = [];
  let token = options.pageToken;
  let ask: number | undefined = options.requested;
  for (;;) {
    const page = await options.fetch(ask, token);
    for (const item of page.items) if (await options.keep(item)) items.push(item);
    token = page.next;
    if (token === undefined || items.length >= options.limit) break;
    ask = options.limit - items.length;
  }
  return { items, next: token };
}

const searchExperimentsRequest = compileValidator(trackingRoutes.searchExperiments.request);
const searchModelsRequest = compileValidator(registryRoutes.searchRegisteredModels.request);
const searchVersionsRequest = compileValidator(registryRoutes.searchModelVersions.request);
const listMonitorsRequest = compileValidator(monitorRoutes.listMonitors.request);
const listDeploymentsRequest = compileValidator(deploymentRoutes.listDeployments.request);
const listAlertsRequest = compileValidator(monitorRoutes.listAlerts.request);

function withPaging<R extends object>(req: R, maxResults: number | undefined, pageToken: string | undefined): R {
  const out: Record<string, unknown> = { ...(req as Record<string, unknown>) };
  delete out.max_results;
  delete out.page_token;
  if (maxResults !== undefined) out.max_results = maxResults;
  if (pageToken !== undefined) out.page_token = pageToken;
  return out as R;
}

function unavailable(kind: SearchKind): Error {
  return new Error(`authorization: the ${kind} search is in the policy but its service is not mounted`);
}

/** Runs the search `kind` for a caller who is not an admin; the value is the response body. */
export async function filteredSearch(
  kind: SearchKind,
  request: FastifyRequest,
  services: SearchServices,
  can: Readable,
): Promise<Record<string, unknown>> {
  const fields = requestFields(request);
  switch (kind) {
    case "experiments": {
      const req = searchExperimentsRequest(fields);
      const page = await fillPage({
        limit: req.max_results ?? LIMITS.searchExperimentsDefault,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await services.tracking.searchExperiments(withPaging(req, max, token));
          return { items: r.experiments ?? [], next: r.next_page_token };
        },
        keep: (e) => can.experiment(e.experiment_id),
      });
      return mlflowPage("experiments", page);
    }
    case "registered_models": {
      const registry = services.registry;
      if (!registry) throw unavailable(kind);
      const req = searchModelsRequest(fields);
      const page = await fillPage({
        limit: req.max_results ?? REGISTRY_LIMITS.searchModelsDefault,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await registry.searchRegisteredModels(withPaging(req, max, token));
          return { items: r.registered_models ?? [], next: r.next_page_token };
        },
        keep: (m) => can.model(m.name),
      });
      return mlflowPage("registered_models", page);
    }
    case "model_versions": {
      const registry = services.registry;
      if (!registry) throw unavailable(kind);
      const req = searchVersionsRequest(fields);
      const page = await fillPage({
        limit: req.max_results ?? REGISTRY_LIMITS.searchVersionsDefault,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await registry.searchModelVersions(withPaging(req, max, token));
          return { items: r.model_versions ?? [], next: r.next_page_token };
        },
        keep: (v) => can.model(v.name),
      });
      return mlflowPage("model_versions", page);
    }
    case "monitors": {
      const monitors = services.monitors;
      if (!monitors) throw unavailable(kind);
      const req = listMonitorsRequest(fields);
      const page = await fillPage({
        limit: req.max_results ?? MONITOR_LIMITS.defaultMaxResults,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await monitors.list(withPaging(req, max, token));
          return { items: r.monitors, next: r.next_page_token };
        },
        keep: (m) => can.model(m.model_name),
      });
      return slipwayPage("monitors", page);
    }
    case "deployments": {
      const deployments = services.deployments;
      if (!deployments) throw unavailable(kind);
      const req = listDeploymentsRequest(fields);
      const page = await fillPage({
        limit: req.max_results ?? DEPLOYMENT_LIMITS.defaultMaxResults,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await deployments.list(withPaging(req, max, token));
          return { items: r.deployments, next: r.next_page_token };
        },
        keep: (d) => can.model(d.model_name),
      });
      return slipwayPage("deployments", page);
    }
    case "alerts": {
      const monitors = services.monitors;
      if (!monitors) throw unavailable(kind);
      const req = listAlertsRequest(fields);
      // an alert belongs to its monitor, which belongs to a model
      const modelOf = new Map<string, string | null>();
      const page = await fillPage({
        limit: req.max_results ?? MONITOR_LIMITS.defaultMaxResults,
        requested: req.max_results,
        pageToken: req.page_token,
        fetch: async (max, token) => {
          const r = await monitors.alerts(withPaging(req, max, token));
          return { items: r.alerts, next: r.next_page_token };
        },
        keep: async (a) => {
          if (!modelOf.has(a.monitor)) {
            // a monitor deleted since its alert fired is gone, and its alerts with it
            const model = await monitors.get(a.monitor).then(
              (m) => m.model_name,
              () => null,
            );
            modelOf.set(a.monitor, model);
          }
          const model = modelOf.get(a.monitor);
          return model !== null && model !== undefined && can.model(model);
        },
      });
      return slipwayPage("alerts", page);
    }
  }
}

/** MLflow's messages leave an empty list out. */
function mlflowPage<T>(key: string, page: Page<T>): Record<string, unknown> {
  return {
    ...(page.items.length > 0 ? { [key]: page.items } : {}),
    ...(page.next === undefined ? {} : { next_page_token: page.next }),
  };
}

/** Slipway's list messages always carry their list. */
function slipwayPage<T>(key: string, page: Page<T>): Record<string, unknown> {
  return { [key]: page.items, ...(page.next === undefined ? {} : { next_page_token: page.next }) };
}
