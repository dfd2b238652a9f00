/**
 * `TrackingClient`: the MLflow tracking and model-registry REST APIs, typed from the route tables in
 * `@slipway/protocol`. Every route is a method (`client.createRun({...})`,
 * `client.createRegisteredModel({...})`), plus `call(name, request)` and a few
 * conveniences that MLflow's own clients build from the same calls (get-or-create, paging).
 */
import {
  MlflowError,
  parseJson,
  registryRoutes,
  stringifyJson,
  trackingRoutes,
  type Experiment,
  type Metric,
  type RegistryMethod,
  type RegistryRequestOf,
  type RegistryResponseOf,
  type RequestOf,
  type ResponseOf,
  type Run,
  type TrackingMethod,
} from "@slipway/protocol";
import { ArtifactClient } from "./artifacts.js";
import { authorizationFromEnv, savedToken } from "./credentials.js";
import { encodeQuery } from "./query-string.js";
import { HttpTransport, type HttpTransportOptions, type RetryPolicy } from "./http-transport.js";

export const DEFAULT_TRACKING_URI = "http://127.0.0.1:5000";

/**
 * The tracking URI from the environment: `SLIPWAY_TRACKING_URI`, else MLflow's `MLFLOW_TRACKING_URI`,
 * else `http://127.0.0.1:5000`. An explicit option always wins over this.
 */
export function resolveTrackingUri(env: Readonly<Record<string, string | undefined>> = process.env): string {
  for (const name of ["SLIPWAY_TRACKING_URI", "MLFLOW_TRACKING_URI"]) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return DEFAULT_TRACKING_URI;
}

/** The Authorization header for a tracking URI: MLflow's environment variables first, then `slipway login`'s file. */
export async function resolveCredentials(
  trackingUri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const fromEnv = authorizationFromEnv(env);
  if (fromEnv) return fromEnv;
  const token = await savedToken(trackingUri, env);
  return token === undefined ? undefined : `Bearer ${token}`;
}

export interface TrackingClientOptions {
  /** Default: `resolveTrackingUri()`. Must be http(s); `user:pass@` becomes a Basic auth header. */
  trackingUri?: string;
  fetch?: typeof fetch;
  /** Retries after the first attempt on network errors, 429 and 5xx. Default 5. */
  maxRetries?: number;
  /** Per attempt. Default 120 000 (MLflow's own default). 0 = none. */
  timeoutMs?: number;
  /** Extra headers on every request, e.g. `{ authorization: "Bearer ..." }`. */
  headers?: Record<string, string>;
  /** Fine-tuning of the backoff; `maxRetries` above wins over `retry.maxRetries`. */
  retry?: Partial<RetryPolicy>;
  /** Per artifact upload/download request. Default 30 minutes. 0 = none. */
  artifactTimeoutMs?: number;
  /**
   * Where credentials come from when neither `headers` nor the URL carry any: MLFLOW_TRACKING_TOKEN, then
   * MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD, then the `slipway login` credentials file. Default
   * `process.env`; `false` sends none.
   */
  credentialsEnv?: NodeJS.ProcessEnv | false;
  /** @internal Test hooks forwarded to the transport. */
  transport?: Pick<HttpTransportOptions, "sleep" | "random">;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra headers on this request, e.g. Slipway's `x-slipway-reason` (see `withReason`). */
  headers?: Record<string, string>;
}

/** One exactly-typed method per route of the tracking API. */
export type TrackingRouteMethods = {
  [M in TrackingMethod]: (request: RequestOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>;
};

/** One exactly-typed method per route of the model-registry API. */
export type RegistryRouteMethods = {
  [M in RegistryMethod]: (request: RegistryRequestOf<M>, options?: CallOptions) => Promise<RegistryResponseOf<M>>;
};

/** Every route the client knows: the tracking API and the model registry. */
export type ApiMethod = TrackingMethod | RegistryMethod;
export type ApiRequestOf<M extends ApiMethod> = M extends TrackingMethod
  ? RequestOf<M>
  : M extends RegistryMethod
    ? RegistryRequestOf<M>
    : never;
export type ApiResponseOf<M extends ApiMethod> = M extends TrackingMethod
  ? ResponseOf<M>
  : M extends RegistryMethod
    ? RegistryResponseOf<M>
    : never;

const apiRoutes = { ...trackingRoutes, ...registryRoutes };

export type SearchRunsQuery = Omit<RequestOf<"searchRuns">, "page_token">;
export type SearchExperimentsQuery = Omit<RequestOf<"searchExperiments">, "page_token">;

/** The Python client's page size for metric histories (it always sends it; see the doc's section 4). */
const METRIC_HISTORY_PAGE = 25_000;
const EXPERIMENT_PAGE = 1000;

/** The client's behaviour; the route methods are added to its prototype from the route table. */
export class TrackingClientBase {
  readonly trackingUri: string;
  /** @internal */
  readonly transport: HttpTransport;
  /** Artifacts by artifact URI (proxied through this server, or local paths). */
  readonly artifacts: ArtifactClient;

  constructor(options: TrackingClientOptions = {}) {
    const uri = options.trackingUri ?? resolveTrackingUri();
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      parsed = new URL("file:///");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `The tracking URI must be an http(s) URL of a tracking server, got '${uri}'. ` +
          "Start one with `slipway server` and set SLIPWAY_TRACKING_URI.",
      );
    }
    const retry = {
      ...options.retry,
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    };
    const env = options.credentialsEnv ?? process.env;
    this.transport = new HttpTransport({
      baseUrl: uri,
      ...(env === false ? {} : { credentials: () => resolveCredentials(uri, env) }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      retry,
      ...options.transport,
    });
    this.trackingUri = this.transport.baseUrl;
    this.artifacts = new ArtifactClient({
      transport: this.transport,
      ...(options.artifactTimeoutMs === undefined ? {} : { timeoutMs: options.artifactTimeoutMs }),
    });
  }

  /** Calls one route of the tracking or registry API by name. GET routes send a query string, the rest JSON. */
  async call<M extends ApiMethod>(
    method: M,
    request: ApiRequestOf<M>,
    options: CallOptions = {},
  ): Promise<ApiResponseOf<M>> {
    const route = Object.hasOwn(apiRoutes, method) ? apiRoutes[method] : undefined;
    if (!route) throw new TypeError(`unknown API method '${String(method)}'`);
    return requestJson<ApiResponseOf<M>>(this, route.method, `/api/2.0${route.path}`, request ?? {}, options);
  }

  /**
   * The experiment called `name`, created if missing (as `mlflow.set_experiment` does). Tolerates
   * another client creating it at the same moment. A deleted experiment is returned as it is.
   */
  async getOrCreateExperiment(
    name: string,
    options: { artifactLocation?: string; tags?: Record<string, string> } = {},
  ): Promise<Experiment> {
    const existing = await this.findExperiment(name);
    if (existing) return existing;
    try {
      const { experiment_id } = await this.call("createExperiment", {
        name,
        ...(options.artifactLocation === undefined ? {} : { artifact_location: options.artifactLocation }),
        ...(options.tags ? { tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })) } : {}),
      });
      return (await this.call("getExperiment", { experiment_id })).experiment;
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== "RESOURCE_ALREADY_EXISTS") throw error;
      const raced = await this.findExperiment(name);
      if (raced) return raced;
      throw error;
    }
  }

  private async findExperiment(name: string): Promise<Experiment | undefined> {
    try {
      return (await this.call("getExperimentByName", { experiment_name: name })).experiment;
    } catch (error) {
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  /** Every run matching the query, page by page (`next_page_token`), as an async iterator. */
  async *searchAllRuns(query: SearchRunsQuery = {}, options: CallOptions = {}): AsyncGenerator<Run, void, undefined> {
    let pageToken: string | undefined;
    do {
      const page = await this.call(
        "searchRuns",
        { ...query, ...(pageToken === undefined ? {} : { page_token: pageToken }) },
        options,
      );
      yield* page.runs ?? [];
      pageToken = nextToken(pageToken, page.next_page_token, page.runs?.length ?? 0);
    } while (pageToken !== undefined);
  }

  /** Every experiment matching the query (1000 per page unless `max_results` says otherwise). */
  async *searchAllExperiments(
    query: SearchExperimentsQuery = {},
    options: CallOptions = {},
  ): AsyncGenerator<Experiment, void, undefined> {
    let pageToken: string | undefined;
    do {
      const page = await this.call(
        "searchExperiments",
        {
          max_results: EXPERIMENT_PAGE,
          ...query,
          ...(pageToken === undefined ? {} : { page_token: pageToken }),
        },
        options,
      );
      yield* page.experiments ?? [];
      pageToken = nextToken(pageToken, page.next_page_token, page.experiments?.length ?? 0);
    } while (pageToken !== undefined);
  }

  /** A metric's whole history, following pages of 25 000 points as MLflow's Python client does. */
  async getMetricHistoryAll(runId: string, key: string, options: CallOptions = {}): Promise<Metric[]> {
    const all: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call(
        "getMetricHistory",
        {
          run_id: runId,
          metric_key: key,
          max_results: METRIC_HISTORY_PAGE,
          ...(pageToken === undefined ? {} : { page_token: pageToken }),
        },
        options,
      );
      for (const metric of page.metrics ?? []) all.push(metric);
      pageToken = nextToken(pageToken, page.next_page_token, page.metrics?.length ?? 0);
    } while (pageToken !== undefined);
    return all;
  }
}

/** The next page token, or undefined when done; stops on a token that repeats on an empty page. */
function nextToken(previous: string | undefined, next: string | undefined, count: number): string | undefined {
  if (next === undefined || next === "") return undefined;
  if (next === previous && count === 0) return undefined;
  return next;
}

for (const name of Object.keys(apiRoutes) as ApiMethod[]) {
  if (name in TrackingClientBase.prototype) {
    throw new Error(`route '${name}' collides with a TrackingClient member`);
  }
  Object.defineProperty(TrackingClientBase.prototype, name, {
    value: function (this: TrackingClientBase, request: never, options?: CallOptions) {
      return this.call(name, request, options);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** A client of the tracking server: `call(...)`, the conveniences, and one method per route (tracking and registry). */
export type TrackingClient = TrackingClientBase & TrackingRouteMethods & RegistryRouteMethods;

export const TrackingClient = TrackingClientBase as unknown as {
  new (options?: TrackingClientOptions): TrackingClient;
  readonly prototype: TrackingClient;
};

/**
 * One JSON request to the tracking server: GET sends `request` as a query string, other methods as a JSON
 * body; the answer is parsed as JSON (an empty body is `{}`), and a body that is not JSON is an
 * `INTERNAL_ERROR` naming the route. Shared by `TrackingClient.call` and the tracing calls (traces.ts).
 */
export function requestJson<T>(
  client: Pick<TrackingClientBase, "transport" | "trackingUri">,
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT",
  routePath: string,
  request: object,
  options: CallOptions = {},
): Promise<T> {
  const isGet = method === "GET";
  const path = `${routePath}${isGet ? encodeQuery(request) : ""}`;
  const json = isGet ? undefined : stringifyJson(request);
  return client.transport.request({
    method,
    path,
    headers: {
      ...options.headers,
      accept: "application/json",
      ...(json === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(json === undefined ? {} : { body: () => json }),
    ...(options.signal ? { signal: options.signal } : {}),
    read: async (response): Promise<T> => {
      const text = await response.text();
      if (text.trim() === "") return {} as T;
      try {
        return parseJson(text) as T;
      } catch (error) {
        throw new MlflowError(
          "INTERNAL_ERROR",
          `${method} ${client.trackingUri}${path} answered ${response.status} with a body that is not JSON`,
          { cause: error, status: response.status },
        );
      }
    },
  });
}
