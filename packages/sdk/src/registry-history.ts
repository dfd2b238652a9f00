/**
 * Slipway's registry API beyond MLflow's, for a `TrackingClient`: the alias and stage history
 * (`GET /api/2.0/slipway/registered-models/alias-history`) and the reason header for alias moves and
 * stage transitions.
 *
 * ```ts
 * await client.setRegisteredModelAlias({ name, alias: "champion", version: "3" }, withReason("beats v2 on recall"));
 * const { history, at } = await aliasHistory(client, { name, at: new Date("2026-03-03T12:00:00Z") });
 * ```
 */
import {
  MlflowError,
  encodeReasonHeader,
  parseJson,
  registryHistoryRoutes,
  SLIPWAY_REASON_HEADER,
  type AliasHistoryRequest,
  type AliasHistoryResponse,
} from "@slipway/protocol";
import type { CallOptions, TrackingClientBase } from "./client.js";
import { encodeQuery } from "./query-string.js";

/**
 * Call options that record `reason` with the change, for `setRegisteredModelAlias`,
 * `deleteRegisteredModelAlias` and `transitionModelVersionStage` (sent as the `X-Slipway-Reason` header, so the
 * request body stays MLflow's; MLflow servers ignore it).
 */
export function withReason(reason: string, options: CallOptions = {}): CallOptions {
  return { ...options, headers: { ...options.headers, [SLIPWAY_REASON_HEADER]: encodeReasonHeader(reason) } };
}

/** One page of the history, with the request in wire form. */
export async function aliasHistoryPage(
  client: TrackingClientBase,
  request: AliasHistoryRequest,
  options: CallOptions = {},
): Promise<AliasHistoryResponse> {
  const route = registryHistoryRoutes.getAliasHistory;
  const path = `/api/2.0${route.path}${encodeQuery(request)}`;
  return client.transport.request({
    method: route.method,
    path,
    headers: { ...options.headers, accept: "application/json" },
    ...(options.signal ? { signal: options.signal } : {}),
    read: async (response) => {
      const text = await response.text();
      try {
        return parseJson(text) as AliasHistoryResponse;
      } catch (error) {
        throw new MlflowError(
          "INTERNAL_ERROR",
          `${route.method} ${client.trackingUri}${path} answered ${response.status} with a body that is not JSON`,
          { cause: error, status: response.status },
        );
      }
    },
  });
}

export interface AliasHistoryQuery {
  /** The registered model. */
  name: string;
  /** Only this alias (or stage). */
  alias?: string;
  /** Also answer where every alias and stage pointed at this instant (a Date or epoch milliseconds). */
  at?: Date | number;
  /** Page size while following pages (default: the server's, 100). */
  pageSize?: number;
}

/**
 * The whole history of a model's aliases and stages, newest first (every page), and with `at`, where
 * each alias (`at`) and stage (`at_stages`) pointed at that instant.
 */
export async function aliasHistory(
  client: TrackingClientBase,
  query: AliasHistoryQuery,
  options: CallOptions = {},
): Promise<AliasHistoryResponse> {
  const at = query.at instanceof Date ? query.at.getTime() : query.at;
  if (at !== undefined && !Number.isSafeInteger(at)) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `aliasHistory: 'at' is not a valid time (${String(query.at)})`);
  }
  const base: AliasHistoryRequest = {
    name: query.name,
    ...(query.alias === undefined ? {} : { alias: query.alias }),
    ...(at === undefined ? {} : { at }),
    ...(query.pageSize === undefined ? {} : { max_results: query.pageSize }),
  };
  const first = await aliasHistoryPage(client, base, options);
  const out: AliasHistoryResponse = { ...first, history: [...(first.history ?? [])] };
  delete out.next_page_token;
  let token = first.next_page_token;
  while (token) {
    const page = await aliasHistoryPage(client, { ...base, page_token: token }, options);
    out.history.push(...(page.history ?? []));
    token = page.next_page_token === token ? undefined : page.next_page_token;
  }
  return out;
}
