/**
 * The UI's HTTP client: the server's own REST API (MLflow's routes under /ajax-api/2.0, as MLflow's UI calls
 * them, and Slipway's under /ajax-api/2.0/slipway), typed by @slipway/protocol. Errors become `ApiError`s
 * whose `message` is something a person can read.
 */
import { parseJson } from "@slipway/protocol";
import type {
  AliasHistoryResponse,
  Deployment,
  DeploymentEvent,
  Experiment,
  FileInfo,
  MetricWithRunId,
  ModelVersion,
  Monitor,
  MonitorAlert,
  MonitorWindow,
  MonitorWindowInfo,
  RegisteredModel,
  Run,
  RunInfo,
  ViewType,
} from "@slipway/protocol";

export type { Experiment, FileInfo, MetricWithRunId, ModelVersion, Monitor, RegisteredModel, Run, RunInfo };
export type { MonitorAlert, MonitorWindow, MonitorWindowInfo, ViewType };
export type { Deployment, DeploymentEvent };

/** An error from the API (or from reaching it), in words. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const BASE = "/ajax-api/2.0";

function encodeQuery(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

const CODE_WORDS: Record<string, string> = {
  RESOURCE_DOES_NOT_EXIST: "Not found",
  RESOURCE_ALREADY_EXISTS: "Already exists",
  INVALID_PARAMETER_VALUE: "Not accepted",
  BAD_REQUEST: "Not accepted",
  MALFORMED_REQUEST: "Not accepted",
  PERMISSION_DENIED: "Not allowed",
  UNAUTHENTICATED: "Sign-in needed",
  RESOURCE_CONFLICT: "Busy",
  ENDPOINT_NOT_FOUND: "This server does not offer that",
  TEMPORARILY_UNAVAILABLE: "The server is busy or shutting down",
};

/**
 * The CSRF token of the signed-in UI session, held in memory only (never in storage a script could read later):
 * the server requires it as X-CSRF-Token on every cookie-authenticated write.
 */
let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** While the session is being read at start-up, writes wait for it (the UI's searches are POSTs, too). */
let csrfPending: Promise<unknown> | undefined;

export function holdWritesUntil(pending: Promise<unknown>): void {
  const settled: Promise<unknown> = pending
    .catch(() => undefined)
    .finally(() => {
      if (csrfPending === settled) csrfPending = undefined;
    });
  csrfPending = settled;
}

const unauthenticatedListeners = new Set<() => void>();

/** Calls `listener` whenever the server answers 401 (no session, or it expired); returns the unsubscribe. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = `${BASE}${path}${encodeQuery(options.query)}`;
  const write = method !== "GET" && method !== "HEAD";
  if (write && csrfPending !== undefined) await csrfPending;
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (write && csrfToken !== undefined) headers["x-csrf-token"] = csrfToken;
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(
      `Could not reach the Slipway server at ${location.origin}. Is it still running? (${String(error)})`,
      0,
      "NETWORK",
    );
  }
  const text = await response.text();
  let json: unknown = {};
  if (text.trim() !== "") {
    try {
      json = parseJson(text);
    } catch {
      throw new ApiError(
        `The server answered ${response.status} ${response.statusText} with something that is not JSON.`,
        response.status,
        "NOT_JSON",
      );
    }
  }
  if (response.status === 401) for (const listener of unauthenticatedListeners) listener();
  if (!response.ok) {
    const body = json as { error_code?: string; message?: string };
    const code = body.error_code ?? `HTTP_${response.status}`;
    const words = CODE_WORDS[code] ?? `The server answered ${response.status}`;
    throw new ApiError(`${words}: ${body.message ?? response.statusText}`, response.status, code);
  }
  return json as T;
}

// ------------------------------------------------------------------ tracking

export function searchExperiments(
  req: { filter?: string; view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string },
  signal?: AbortSignal,
) {
  return request<{ experiments?: Experiment[]; next_page_token?: string }>("POST", "/mlflow/experiments/search", {
    body: req,
    ...(signal ? { signal } : {}),
  });
}
export const getExperiment = (experiment_id: string, signal?: AbortSignal) =>
  request<{ experiment: Experiment }>("GET", "/mlflow/experiments/get", {
    query: { experiment_id },
    ...(signal ? { signal } : {}),
  });
export const createExperiment = (name: string) =>
  request<{ experiment_id: string }>("POST", "/mlflow/experiments/create", { body: { name } });
export const renameExperiment = (experiment_id: string, new_name: string) =>
  request("POST", "/mlflow/experiments/update", { body: { experiment_id, new_name } });
export const deleteExperiment = (experiment_id: string) =>
  request("POST", "/mlflow/experiments/delete", { body: { experiment_id } });
export const restoreExperiment = (experiment_id: string) =>
  request("POST", "/mlflow/experiments/restore", { body: { experiment_id } });

export interface SearchRunsRequest {
  experiment_ids: string[];
  filter?: string;
  run_view_type?: ViewType;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}
export const searchRuns = (req: SearchRunsRequest, signal?: AbortSignal) =>
  request<{ runs?: Run[]; next_page_token?: string }>("POST", "/mlflow/runs/search", {
    body: req,
    ...(signal ? { signal } : {}),
  });
export const getRun = (run_id: string, signal?: AbortSignal) =>
  request<{ run: Run }>("GET", "/mlflow/runs/get", { query: { run_id }, ...(signal ? { signal } : {}) });
export const deleteRun = (run_id: string) => request("POST", "/mlflow/runs/delete", { body: { run_id } });
export const restoreRun = (run_id: string) => request("POST", "/mlflow/runs/restore", { body: { run_id } });

/** At most 2500 points per run, sampled evenly over the steps by the server (MLflow's UI endpoint for this). */
export const metricHistory = (
  req: { run_ids: string[]; metric_key: string; start_step?: number; end_step?: number; max_results?: number },
  signal?: AbortSignal,
) =>
  request<{ metrics?: MetricWithRunId[] }>("GET", "/mlflow/metrics/get-history-bulk-interval", {
    query: req,
    ...(signal ? { signal } : {}),
  });

export const listArtifacts = (run_id: string, path: string, signal?: AbortSignal) =>
  request<{ root_uri?: string; files?: FileInfo[] }>("GET", "/mlflow/artifacts/list", {
    query: { run_id, ...(path ? { path } : {}) },
    ...(signal ? { signal } : {}),
  });

/** The download URL of a run artifact, when the run's artifacts go through this server's proxy. */
export function artifactUrl(rootUri: string, path: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(rootUri);
  if (!m) return undefined;
  const segments = [...m[1]!.split("/"), ...path.split("/")].filter((s) => s !== "");
  return `/api/2.0/mlflow-artifacts/artifacts/${segments.map(encodeURIComponent).join("/")}`;
}

// ------------------------------------------------------------------ registry

export const searchRegisteredModels = (filter: string | undefined, signal?: AbortSignal) =>
  request<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
    "GET",
    "/mlflow/registered-models/search",
    { query: { max_results: 1000, ...(filter ? { filter } : {}) }, ...(signal ? { signal } : {}) },
  );
export const getRegisteredModel = (name: string, signal?: AbortSignal) =>
  request<{ registered_model: RegisteredModel }>("GET", "/mlflow/registered-models/get", {
    query: { name },
    ...(signal ? { signal } : {}),
  });
export const searchModelVersions = (name: string, signal?: AbortSignal) =>
  request<{ model_versions?: ModelVersion[] }>("GET", "/mlflow/model-versions/search", {
    query: { filter: `name = '${name.replace(/'/g, "\\'")}'`, max_results: 10000 },
    ...(signal ? { signal } : {}),
  });
export function setAlias(req: { name: string; alias: string; version: string; reason: string }) {
  const reason = req.reason.trim();
  return request("POST", "/mlflow/registered-models/alias", {
    body: { name: req.name, alias: req.alias, version: req.version },
    // RFC 8187 encoding, which the server decodes for any text (plain ASCII would also pass as it is)
    headers: reason ? { "x-slipway-reason": `UTF-8''${encodeURIComponent(reason)}` } : {},
  });
}
export const aliasHistory = (name: string, signal?: AbortSignal) =>
  request<AliasHistoryResponse>("GET", "/slipway/registered-models/alias-history", {
    query: { name, max_results: 1000 },
    ...(signal ? { signal } : {}),
  });

// ------------------------------------------------------------------ monitors

const seg = encodeURIComponent;
export const listMonitors = (signal?: AbortSignal) =>
  request<{ monitors?: Monitor[]; next_page_token?: string }>("GET", "/slipway/monitors", {
    query: { max_results: 1000 },
    ...(signal ? { signal } : {}),
  });
export const getMonitor = (name: string, signal?: AbortSignal) =>
  request<{ monitor: Monitor }>("GET", `/slipway/monitors/${seg(name)}`, signal ? { signal } : {});
export const listWindows = (name: string, maxResults: number, signal?: AbortSignal) =>
  request<{ windows?: MonitorWindowInfo[]; next_page_token?: string }>(
    "GET",
    `/slipway/monitors/${seg(name)}/windows`,
    {
      query: { max_results: maxResults },
      ...(signal ? { signal } : {}),
    },
  );
export const getWindow = (name: string, id: string, signal?: AbortSignal) =>
  request<{ window: MonitorWindow }>(
    "GET",
    `/slipway/monitors/${seg(name)}/windows/${seg(id)}`,
    signal ? { signal } : {},
  );
export const listAlerts = (name: string, signal?: AbortSignal) =>
  request<{ alerts?: MonitorAlert[] }>("GET", `/slipway/monitors/${seg(name)}/alerts`, signal ? { signal } : {});
export const reportUrl = (name: string, windowId: number | string) =>
  `/api/2.0/slipway/monitors/${seg(name)}/windows/${seg(String(windowId))}/report`;

// ------------------------------------------------------------------ deployments

export const listDeployments = (signal?: AbortSignal) =>
  request<{ deployments?: Deployment[]; next_page_token?: string }>("GET", "/slipway/deployments", {
    query: { max_results: 1000 },
    ...(signal ? { signal } : {}),
  });
export const getDeployment = (name: string, signal?: AbortSignal) =>
  request<{ deployment: Deployment }>("GET", `/slipway/deployments/${seg(name)}`, signal ? { signal } : {});
/** Newest first. */
export const listDeploymentEvents = (name: string, maxResults: number, signal?: AbortSignal) =>
  request<{ events?: DeploymentEvent[]; next_page_token?: string }>("GET", `/slipway/deployments/${seg(name)}/events`, {
    query: { max_results: maxResults },
    ...(signal ? { signal } : {}),
  });

// ------------------------------------------------------------------ session (servers started with --auth)

export interface SessionUser {
  id: number;
  username: string;
  is_admin: boolean;
  kind: string;
}

export interface SessionInfo {
  user: SessionUser;
  csrf_token: string;
}

/** Whether the server wants people to sign in, and whether it offers single sign-on. */
export const getAuthConfig = () => request<{ enabled: boolean; auth?: boolean }>("GET", "/slipway/auth/oidc/config");
export const getSession = () => request<SessionInfo>("GET", "/slipway/auth/session");
export const login = (username: string, password: string) =>
  request<SessionInfo>("POST", "/slipway/auth/login", { body: { username, password } });
export const logout = () => request<Record<string, never>>("POST", "/slipway/auth/logout");

/** Where the browser goes to sign in with the identity provider, coming back to `returnTo`. */
export function ssoLoginUrl(returnTo: string): string {
  return `/api/2.0/slipway/auth/oidc/login?return_to=${encodeURIComponent(returnTo)}`;
}
