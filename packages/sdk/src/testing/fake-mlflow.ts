/**
 * @internal
 * A small in-memory stand-in for an MLflow tracking server, for the SDK's own tests: a real
 * `node:http` server on 127.0.0.1 that records every request and answers the core routes the way
 * `mlflow-rest-api.md` says MLflow does (status codes, error bodies, limits, paging, the artifact
 * proxy). It is deliberately not the Slipway server; the end-to-end suite runs against that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  MlflowError,
  compileValidator,
  parseJson,
  stringifyJson,
  trackingRoutes,
  type Experiment,
  type Metric,
  type Run,
  type RunStatus,
  type TrackingMethod,
} from "@slipway/protocol";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, still URL-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** The parsed JSON body (NaN/Infinity tokens allowed), when there was one. */
  json?: unknown;
}

export interface CannedAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Only answer requests whose path (below /api/2.0) starts with this. */
  pathPrefix?: string;
}

interface StoredRun {
  run: Run;
  metrics: Metric[];
}

const API = "/api/2.0";
const ARTIFACTS = `${API}/mlflow-artifacts/artifacts`;

function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString("base64");
}

function readToken(token: unknown): number {
  if (typeof token !== "string" || token === "") return 0;
  const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { offset: number };
  return parsed.offset;
}

export class FakeMlflow {
  readonly requests: RecordedRequest[] = [];
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<string, StoredRun>();
  readonly artifacts = new Map<string, Buffer>();
  /** Answers given instead of the real handling, first in first out. */
  readonly canned: CannedAnswer[] = [];
  /** Make `runs/create` return local artifact URIs under this directory instead of mlflow-artifacts:. */
  localArtifactRoot: string | undefined;
  /** Called before each request is handled (e.g. to slow one down). */
  beforeHandle: ((req: RecordedRequest) => Promise<void> | void) | undefined;
  private server: Server | undefined;
  private nextExperimentId = 1;
  private nextRunId = 1;
  private readonly validators = new Map<string, (input: unknown) => unknown>();

  constructor() {
    this.experiments.set("0", {
      experiment_id: "0",
      name: "Default",
      artifact_location: "mlflow-artifacts:/0",
      lifecycle_stage: "active",
      creation_time: Date.now(),
      last_update_time: Date.now(),
    });
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("fake server not started");
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose path ends with `suffix` (e.g. `runs/log-batch`). */
  calls(suffix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://localhost");
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    this.requests.push(recorded);
    await this.beforeHandle?.(recorded);
    const cannedIndex = this.canned.findIndex(
      (c) => c.pathPrefix === undefined || url.pathname.startsWith(API + c.pathPrefix),
    );
    if (cannedIndex >= 0) {
      const [answer] = this.canned.splice(cannedIndex, 1);
      res.writeHead(answer!.status, answer!.headers ?? {});
      res.end(answer!.body ?? "");
      return;
    }
    try {
      if (url.pathname === ARTIFACTS || url.pathname.startsWith(`${ARTIFACTS}/`)) {
        this.handleArtifacts(recorded, res);
        return;
      }
      const route = Object.values(trackingRoutes).find((r) => `${API}${r.path}` === url.pathname);
      if (!route) {
        res.writeHead(404, { "content-type": "text/html; charset=utf-8" });
        res.end("<!doctype html><title>404 Not Found</title><h1>Not Found</h1>");
        return;
      }
      if (recorded.method !== route.method && !(route.alsoMethods ?? []).includes(recorded.method as "GET")) {
        res.writeHead(405, { "content-type": "text/html" });
        res.end("<h1>Method Not Allowed</h1>");
        return;
      }
      let input: unknown;
      if (recorded.method === "GET") {
        input = this.queryToObject(route.name, url.searchParams);
      } else {
        const type = req.headers["content-type"] ?? "";
        if (!type.startsWith("application/json")) {
          throw new MlflowError("INVALID_PARAMETER_VALUE", "Content-Type must be one of ['application/json']");
        }
        recorded.json = parseJson(recorded.body.toString("utf8") || "{}");
        input = recorded.json;
      }
      const request = this.validator(route.name)(input) as Record<string, unknown>;
      const answer = this.handle(route.name as TrackingMethod, request);
      this.sendJson(res, 200, answer);
    } catch (error) {
      if (error instanceof MlflowError) {
        this.sendJson(res, error.status, error.toJSON());
        return;
      }
      throw error;
    }
  }

  private validator(name: string): (input: unknown) => unknown {
    let check = this.validators.get(name);
    if (!check) {
      check = compileValidator(trackingRoutes[name as TrackingMethod].request);
      this.validators.set(name, check);
    }
    return check;
  }

  private queryToObject(name: string, params: URLSearchParams): Record<string, unknown> {
    const schema = trackingRoutes[name as TrackingMethod].request as unknown as {
      properties: Record<string, { type?: string }>;
    };
    const out: Record<string, unknown> = {};
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key);
      out[key] = schema.properties[key]?.type === "array" ? all : all[all.length - 1];
    }
    return out;
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(stringifyJson(body));
  }

  private runOf(request: Record<string, unknown>): StoredRun {
    const id = (request.run_id ?? request.run_uuid) as string | undefined;
    const stored = id === undefined ? undefined : this.runs.get(id);
    if (!stored) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Run with id=${String(id)} not found`);
    return stored;
  }

  private handle(name: TrackingMethod, r: Record<string, unknown>): unknown {
    switch (name) {
      case "getExperimentByName": {
        const found = [...this.experiments.values()].find((e) => e.name === r.experiment_name);
        if (!found) {
          throw new MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            `Could not find experiment with name '${String(r.experiment_name)}'`,
          );
        }
        return { experiment: found };
      }
      case "getExperiment": {
        const found = this.experiments.get(r.experiment_id as string);
        if (!found) {
          throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${String(r.experiment_id)} exists`);
        }
        return { experiment: found };
      }
      case "createExperiment": {
        const name = r.name as string;
        if ([...this.experiments.values()].some((e) => e.name === name)) {
          throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
        }
        const id = String(this.nextExperimentId++);
        this.experiments.set(id, {
          experiment_id: id,
          name,
          artifact_location: `mlflow-artifacts:/${id}`,
          lifecycle_stage: "active",
          creation_time: Date.now(),
          last_update_time: Date.now(),
        });
        return { experiment_id: id };
      }
      case "searchExperiments": {
        const max = (r.max_results as number | undefined) ?? 0;
        if (max <= 0) {
          throw new MlflowError(
            "INVALID_PARAMETER_VALUE",
            `Invalid value ${max} for parameter 'max_results' supplied. It must be a positive integer`,
          );
        }
        const all = [...this.experiments.values()];
        const offset = readToken(r.page_token);
        const page = all.slice(offset, offset + max);
        return {
          experiments: page,
          ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
        };
      }
      case "createRun": {
        const experimentId = (r.experiment_id as string | undefined) ?? "0";
        if (!this.experiments.has(experimentId)) {
          throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${experimentId} exists`);
        }
        const id = (this.nextRunId++).toString(16).padStart(32, "0");
        const tags = (r.tags as { key: string; value: string }[] | undefined) ?? [];
        const runName = (r.run_name as string | undefined) ?? `run-${id.slice(-4)}`;
        if (!tags.some((t) => t.key === "mlflow.runName")) tags.push({ key: "mlflow.runName", value: runName });
        const run: Run = {
          info: {
            run_id: id,
            run_uuid: id,
            run_name: runName,
            experiment_id: experimentId,
            user_id: (r.user_id as string | undefined) ?? "",
            status: "RUNNING",
            start_time: (r.start_time as number | undefined) ?? Date.now(),
            artifact_uri: this.localArtifactRoot
              ? `${this.localArtifactRoot}/${experimentId}/${id}/artifacts`
              : `mlflow-artifacts:/${experimentId}/${id}/artifacts`,
            lifecycle_stage: "active",
          },
          data: { tags, params: [], metrics: [] },
        };
        this.runs.set(id, { run, metrics: [] });
        return { run };
      }
      case "updateRun": {
        const stored = this.runOf(r);
        if (r.status !== undefined) stored.run.info.status = r.status as RunStatus;
        if (r.end_time !== undefined) stored.run.info.end_time = r.end_time as number;
        if (r.run_name !== undefined) stored.run.info.run_name = r.run_name as string;
        return { run_info: stored.run.info };
      }
      case "getRun":
        return { run: this.runOf(r).run };
      case "searchRuns": {
        const max = (r.max_results as number | undefined) ?? 1000;
        const ids = (r.experiment_ids as string[] | undefined) ?? [];
        const all = [...this.runs.values()].map((s) => s.run).filter((run) => ids.includes(run.info.experiment_id));
        const offset = readToken(r.page_token);
        const page = all.slice(offset, offset + max);
        return {
          runs: page,
          ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
        };
      }
      case "logBatch": {
        const stored = this.runOf(r);
        const metrics = (r.metrics as Metric[] | undefined) ?? [];
        const params = (r.params as { key: string; value: string }[] | undefined) ?? [];
        const tags = (r.tags as { key: string; value: string }[] | undefined) ?? [];
        if (metrics.length > 1000 || params.length > 100 || tags.length > 100) {
          throw new MlflowError(
            "INVALID_PARAMETER_VALUE",
            `A batch logging request can contain at most 1000 metrics, 100 params and 100 tags. ` +
              `Got ${metrics.length} metrics, ${params.length} params, ${tags.length} tags`,
          );
        }
        if (metrics.length + params.length + tags.length > 1000) {
          throw new MlflowError("INVALID_PARAMETER_VALUE", "A batch logging request can contain at most 1000 entities");
        }
        if (new Set(params.map((p) => p.key)).size !== params.length) {
          throw new MlflowError("INVALID_PARAMETER_VALUE", "Duplicate parameter keys have been submitted");
        }
        for (const p of params) this.logParam(stored, p.key, p.value);
        for (const t of tags) this.setTag(stored, t.key, t.value);
        for (const m of metrics) stored.metrics.push({ ...m, step: m.step ?? 0 });
        return {};
      }
      case "logMetric": {
        const stored = this.runOf(r);
        stored.metrics.push({
          key: r.key as string,
          value: r.value as number,
          timestamp: r.timestamp as number,
          step: (r.step as number | undefined) ?? 0,
        });
        return {};
      }
      case "logParam":
        this.logParam(this.runOf(r), r.key as string, r.value as string);
        return {};
      case "setTag":
        this.setTag(this.runOf(r), r.key as string, r.value as string);
        return {};
      case "getMetricHistory": {
        const stored = this.runOf(r);
        const all = stored.metrics.filter((m) => m.key === r.metric_key);
        const max = r.max_results as number | undefined;
        if (max === undefined) return { metrics: all };
        const offset = readToken(r.page_token);
        const page = all.slice(offset, offset + max);
        return {
          metrics: page,
          ...(offset + max < all.length ? { next_page_token: pageToken(offset + max) } : {}),
        };
      }
      default:
        throw new MlflowError("NOT_IMPLEMENTED", `fake server does not implement ${name}`);
    }
  }

  private logParam(stored: StoredRun, key: string, value: string): void {
    const params = (stored.run.data.params ??= []);
    const existing = params.find((p) => p.key === key);
    if (existing && existing.value !== value) {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `Changing param values is not allowed. Param with key='${key}' was already logged with value='${existing.value}'`,
      );
    }
    if (!existing) params.push({ key, value });
  }

  private setTag(stored: StoredRun, key: string, value: string): void {
    const tags = (stored.run.data.tags ??= []);
    const existing = tags.find((t) => t.key === key);
    if (existing) existing.value = value;
    else tags.push({ key, value });
  }

  private handleArtifacts(req: RecordedRequest, res: ServerResponse): void {
    const raw = req.path.slice(ARTIFACTS.length + 1);
    const path = raw.split("/").map(decodeURIComponent).join("/");
    if (path.split("/").some((s) => s === ".." || s === ".")) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", "Invalid path");
    }
    if (req.method === "GET" && req.path === ARTIFACTS) {
      const dir = req.query.get("path") ?? "";
      const prefix = dir === "" ? "" : `${dir.replace(/\/+$/, "")}/`;
      const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
      for (const [key, data] of this.artifacts) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const [head, ...tail] = rest.split("/");
        if (tail.length > 0) entries.set(head!, { path: head!, is_dir: true });
        else entries.set(head!, { path: head!, is_dir: false, file_size: data.length });
      }
      this.sendJson(res, 200, entries.size === 0 ? {} : { files: [...entries.values()] });
      return;
    }
    if (req.method === "PUT") {
      this.artifacts.set(path, req.body);
      this.sendJson(res, 200, {});
      return;
    }
    if (req.method === "GET") {
      const data = this.artifacts.get(path);
      if (!data) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `File not found: ${path}`);
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-disposition": `attachment; filename=${path.split("/").pop() ?? ""}`,
        "x-content-type-options": "nosniff",
      });
      res.end(data);
      return;
    }
    if (req.method === "DELETE") {
      for (const key of [...this.artifacts.keys()]) {
        if (key === path || key.startsWith(`${path}/`)) this.artifacts.delete(key);
      }
      this.sendJson(res, 200, {});
      return;
    }
    res.writeHead(405);
    res.end();
  }
}
