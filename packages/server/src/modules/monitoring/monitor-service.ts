/**
 * Monitors, with no knowledge of HTTP: definitions (create, get, list, update, delete), evaluation of a window
 * (on demand, or claimed by the scheduler), stored results and reports, alert state, and the in-process alert hook.
 *
 * An evaluation stores its window, applies the alert rules and queues the webhook deliveries in one transaction.
 * Alert state follows the newest window only: a re-run of an older window stores its result but leaves alerts be.
 * An alert fires once per incident (the ok→firing transition opens a row in `monitor_alerts`, at most one firing row
 * per rule), stays firing silently, and resolves on firing→ok; both transitions go to the webhook and to every
 * `onAlert` listener.
 */
import { randomUUID } from "node:crypto";
import {
  MlflowError,
  checkRequest,
  invalidParameter,
  monitorRoutes,
  notFound,
  type AlertCheck,
  type AlertRule,
  type AlertWebhookPayload,
  type Monitor,
  type MonitorAlert,
  type MonitorWindow,
  type MonitorWindowInfo,
  type WindowSummary,
  MONITOR_LIMITS,
} from "@slipway/protocol";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";
import type { SqlDb, SqlExecutor } from "../../platform/db/sql-db.js";
import type { RegistryService } from "../registry/registry-service.js";
import type { TrackingService } from "../tracking/tracking-service.js";
import { parseCron } from "./cron.js";
import type { InferenceLogService } from "./inference-log-service.js";
import { checkAlerts } from "./monitor-alerts.js";
import { applyMonitorUpdate, followedUri, parseMonitorInput, type MonitorDefinition } from "./monitor-definition.js";
import { evaluateWindow, type Evaluation } from "./monitor-evaluation.js";
import type { MonitorMetrics } from "./monitor-gauges.js";
import { ReferenceLoader } from "./monitor-reference.js";
import { monitorReportHtml, type TrendPoint } from "./monitor-report.js";
import { MonitorStore, type AlertRow, type StoredMonitor, type WindowRow } from "./monitor-store.js";

/** One alert transition, as `onAlert` listeners receive it. */
export interface AlertTransition {
  kind: "firing" | "resolved";
  monitor: string;
  model_name: string;
  model_uri: string;
  alert: MonitorAlert;
  rule: AlertRule;
  window: { window_id: number; start_ms: number; end_ms: number; versions: string[] };
}

export type AlertListener = (transition: AlertTransition) => void | Promise<void>;

export interface MonitorServiceDeps {
  db: SqlDb;
  inferenceLog: InferenceLogService;
  registry: RegistryService;
  tracking: TrackingService;
  /** The repository behind `mlflow-artifacts:` URIs (reference files). */
  artifacts: ArtifactRepository;
  /** Opens other artifact locations (file:, s3:) for reference files. */
  openRepository?: (uri: string) => Promise<ArtifactRepository>;
  metrics?: MonitorMetrics;
  now?: () => number;
  /** A claim older than this (ms) belongs to a replica that died and may be taken over (default 15 minutes). */
  staleClaimMs?: number;
  /** Rows kept for a window's statistics (default 100 000). */
  maxRows?: number;
  /** Windows drawn in a report's trend (default 48). */
  trendWindows?: number;
  /** Where unexpected errors are reported (default: nowhere; the window stores them anyway). */
  log?: (message: string, error: unknown) => void;
}

type Unchecked = Record<string, unknown>;

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodeToken<T>(token: unknown, check: (v: unknown) => v is T): T | undefined {
  if (token === undefined || token === "") return undefined;
  if (typeof token !== "string") throw invalidParameter("Invalid page_token: expected a string.");
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (check(value)) return value;
  } catch {
    // falls through to the error
  }
  throw invalidParameter(`Invalid page_token '${token}'.`);
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isString = (v: unknown): v is string => typeof v === "string";

function maxResults(value: unknown): number {
  if (value === undefined) return MONITOR_LIMITS.defaultMaxResults;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > MONITOR_LIMITS.maxMaxResults) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(value)} for parameter 'max_results': expected an integer from 1 to ${MONITOR_LIMITS.maxMaxResults}.`,
    );
  }
  return value;
}

function parseJsonColumn<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toAlert(row: AlertRow): MonitorAlert {
  return {
    alert_id: row.alert_id,
    monitor: row.monitor_name,
    rule: row.rule_name,
    when: row.rule_when,
    state: row.state,
    started_at: row.started_at,
    ...(row.resolved_at === null ? {} : { resolved_at: row.resolved_at }),
    start_window_id: row.start_window_id,
    last_window_id: row.last_window_id,
    last_value: row.last_value,
    message: row.message,
  };
}

function toWindowInfo(row: WindowRow, monitor: string): MonitorWindowInfo {
  return {
    window_id: row.window_id,
    monitor,
    start_ms: row.window_start,
    end_ms: row.window_end,
    status: row.status,
    trigger: row.triggered_by,
    versions: parseJsonColumn<string[]>(row.versions, []),
    rows: row.row_count,
    labelled: row.labelled,
    ...(row.dataset_drift === null ? {} : { dataset_drift: row.dataset_drift === 1 }),
    ...(row.share === null ? {} : { share: row.share }),
    metrics: parseJsonColumn<Record<string, number>>(row.metrics, {}),
    ...(row.error === null ? {} : { error: row.error }),
    claimed_at: row.claimed_at,
    ...(row.completed_at === null ? {} : { completed_at: row.completed_at }),
  };
}

function windowId(value: string): number | "latest" {
  if (value === "latest") return "latest";
  if (!/^\d{1,15}$/.test(value)) {
    throw invalidParameter(`Invalid value '${value}' for parameter 'window_id': expected a window id or 'latest'.`);
  }
  return Number(value);
}

export class MonitorService {
  private readonly store: MonitorStore;
  private readonly references: ReferenceLoader;
  private readonly listeners = new Set<AlertListener>();
  private readonly now: () => number;
  private readonly staleClaimMs: number;

  constructor(private readonly deps: MonitorServiceDeps) {
    this.store = new MonitorStore(deps.db);
    this.references = new ReferenceLoader({
      registry: deps.registry,
      tracking: deps.tracking,
      artifacts: deps.artifacts,
      ...(deps.openRepository === undefined ? {} : { openRepository: deps.openRepository }),
    });
    this.now = deps.now ?? Date.now;
    this.staleClaimMs = deps.staleClaimMs ?? 15 * 60_000;
  }

  /** The rows the gauges are read from (see monitor-gauges.ts). */
  gaugeRows(): ReturnType<MonitorStore["gaugeRows"]> {
    return this.store.gaugeRows();
  }

  /**
   * Calls `listener` after every alert transition this process commits (firing and resolved), e.g. to start a
   * retraining pipeline. A listener that throws or rejects is reported to `log` and does not affect the others.
   * Returns the function that unsubscribes it.
   */
  onAlert(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- definitions

  async create(body: unknown): Promise<Monitor> {
    const def = parseMonitorInput(body);
    const id = randomUUID().replace(/-/g, "");
    if (!(await this.store.insert(id, def, this.now()))) {
      throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Monitor '${def.name}' already exists.`);
    }
    return this.toMonitor((await this.store.byId(id))!);
  }

  async get(name: string): Promise<Monitor> {
    return this.toMonitor(await this.stored(name));
  }

  async list(query: Unchecked): Promise<{ monitors: Monitor[]; next_page_token?: string }> {
    const limit = maxResults(query.max_results);
    const after = decodeToken(query.page_token, isString);
    const rows = await this.store.list({
      ...(typeof query.model_name === "string" ? { modelName: query.model_name } : {}),
      ...(after === undefined ? {} : { after }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      monitors: page.map((m) => this.toMonitor(m)),
      ...(rows.length > limit ? { next_page_token: encodeToken(page.at(-1)!.def.name) } : {}),
    };
  }

  async update(name: string, body: unknown): Promise<Monitor> {
    const stored = await this.stored(name);
    const def = applyMonitorUpdate(stored.def, body);
    await this.store.update(stored.id, def, Math.max(this.now(), stored.updated));
    return this.toMonitor((await this.store.byId(stored.id))!);
  }

  async delete(name: string): Promise<void> {
    const stored = await this.stored(name);
    await this.store.delete(stored.id);
  }

  /** The enabled monitors (what the scheduler runs). */
  async enabledMonitors(): Promise<StoredMonitor[]> {
    return this.store.enabled();
  }

  // ---------------------------------------------------------------- evaluation

  /** Evaluates the window ending at `end_ms` (default now) at once, re-evaluating it if it was done before. */
  async run(name: string, body: unknown): Promise<MonitorWindow> {
    const request = checkRequest(monitorRoutes.runMonitor.request, body ?? {});
    const stored = await this.stored(name);
    const now = this.now();
    const end = request.end_ms ?? now;
    if (end < stored.def.window_ms) {
      throw invalidParameter(
        `Invalid value ${end} for parameter 'end_ms': it must be epoch milliseconds after the window.`,
      );
    }
    const start = end - stored.def.window_ms;
    const id = await this.store.claim({
      monitorId: stored.id,
      start,
      end,
      trigger: "manual",
      now,
      staleBefore: now - this.staleClaimMs,
      rerun: true,
    });
    if (id === undefined) {
      throw new MlflowError(
        "RESOURCE_CONFLICT",
        `The window of monitor '${name}' ending at ${end} is being evaluated right now; try again when it is done.`,
      );
    }
    await this.evaluateClaimed(stored, id, start, end);
    return this.window(name, String(id));
  }

  /**
   * The scheduler's entry: claims the window ending at `end` and evaluates it. Returns false, doing nothing, when
   * the window is already claimed (by another replica, or done before).
   */
  async evaluateScheduled(stored: StoredMonitor, end: number): Promise<boolean> {
    const now = this.now();
    const start = end - stored.def.window_ms;
    const id = await this.store.claim({
      monitorId: stored.id,
      start,
      end,
      trigger: "schedule",
      now,
      staleBefore: now - this.staleClaimMs,
    });
    if (id === undefined) return false;
    await this.evaluateClaimed(stored, id, start, end);
    return true;
  }

  private async evaluateClaimed(stored: StoredMonitor, id: number, start: number, end: number): Promise<void> {
    const def = stored.def;
    const t0 = performance.now();
    let evaluation: Evaluation;
    try {
      evaluation = await evaluateWindow(
        {
          inferenceLog: this.deps.inferenceLog,
          registry: this.deps.registry,
          references: this.references,
          ...(this.deps.maxRows === undefined ? {} : { maxRows: this.deps.maxRows }),
        },
        def,
        start,
        end,
      );
    } catch (error) {
      this.deps.log?.(`monitor ${def.name}: evaluation of the window ending at ${end} failed`, error);
      evaluation = {
        status: "error",
        error: `internal error: ${error instanceof Error ? error.message : String(error)}`,
        versions: [],
        rows: 0,
        labelled: 0,
        summary: { model_uri: followedUri(def), findings: [] },
        metrics: {},
      };
    }
    const checks: AlertCheck[] =
      evaluation.status === "error"
        ? def.alerts.map((rule) => ({
            rule: rule.name,
            value: null,
            active: null,
            message: `${rule.name}: unknown (the evaluation failed)`,
          }))
        : checkAlerts(def.alerts, {
            rows: evaluation.rows,
            ...(evaluation.summary.feature_drift === undefined
              ? {}
              : { featureDrift: evaluation.summary.feature_drift }),
            ...(evaluation.summary.performance === undefined ? {} : { performance: evaluation.summary.performance }),
            ...(evaluation.summary.latency === undefined ? {} : { latency: evaluation.summary.latency }),
            ...(evaluation.summary.errors === undefined ? {} : { errors: evaluation.summary.errors }),
            ...(def.metrics.max_drop === undefined ? {} : { maxDrop: def.metrics.max_drop }),
          });
    const summary: WindowSummary = {
      ...evaluation.summary,
      alerts: checks,
      duration_ms: Math.round((performance.now() - t0) * 10) / 10,
    };
    const trendWindows = this.deps.trendWindows ?? 48;
    const previous = await this.store.trend(stored.id, end, trendWindows - 1);
    const trend: TrendPoint[] = [
      ...previous.map((w) => ({
        end_ms: w.window_end,
        share: w.share,
        metrics: parseJsonColumn<Record<string, number>>(w.metrics, {}),
      })),
      ...(evaluation.status === "error"
        ? []
        : [{ end_ms: end, share: summary.feature_drift?.share ?? null, metrics: evaluation.metrics }]),
    ];
    let html: string;
    try {
      html = monitorReportHtml({
        monitor: def.name,
        status: evaluation.status,
        ...(evaluation.error === undefined ? {} : { error: evaluation.error }),
        start_ms: start,
        end_ms: end,
        versions: evaluation.versions,
        rows: evaluation.rows,
        labelled: evaluation.labelled,
        summary,
        ...(evaluation.featureDrift === undefined ? {} : { featureDrift: evaluation.featureDrift }),
        trend,
        generatedAt: new Date(this.now()),
      });
    } catch (error) {
      this.deps.log?.(`monitor ${def.name}: the report could not be drawn`, error);
      html = `<!doctype html><html><body><p>The report could not be drawn: ${String(error)}</p></body></html>`;
    }
    const window = { window_id: id, start_ms: start, end_ms: end, versions: evaluation.versions };
    const transitions = await this.deps.db.transaction(async (tx) => {
      await this.store.complete(tx, id, {
        status: evaluation.status,
        completedAt: this.now(),
        versions: evaluation.versions,
        rows: evaluation.rows,
        labelled: evaluation.labelled,
        datasetDrift: summary.feature_drift?.dataset_drift ?? null,
        share: summary.feature_drift?.share ?? null,
        metrics: evaluation.metrics,
        error: evaluation.error ?? null,
        summary: JSON.stringify(summary),
        reportHtml: html,
      });
      if (!(await this.store.advanceAlerts(tx, stored.id, end))) return [];
      return this.applyAlerts(tx, stored, window, checks);
    });
    this.deps.metrics?.evaluations.inc({ monitor: def.name, status: evaluation.status });
    for (const transition of transitions) await this.emit(transition);
  }

  private async applyAlerts(
    tx: SqlExecutor,
    stored: StoredMonitor,
    window: AlertTransition["window"],
    checks: readonly AlertCheck[],
  ): Promise<AlertTransition[]> {
    const def = stored.def;
    const open = new Map((await this.store.openAlerts(tx, stored.id)).map((a) => [a.rule_name, a]));
    const changed: { kind: AlertTransition["kind"]; alertId: number; rule: AlertRule }[] = [];
    for (let i = 0; i < def.alerts.length; i++) {
      const rule = def.alerts[i]!;
      const check = checks[i]!;
      const existing = open.get(rule.name);
      open.delete(rule.name);
      if (check.active === true) {
        if (existing !== undefined) {
          await this.store.touch(tx, existing.alert_id, window.window_id, check.value, check.message);
        } else {
          const alertId = await this.store.fire(tx, {
            monitorId: stored.id,
            rule: rule.name,
            when: rule.when,
            at: window.end_ms,
            windowId: window.window_id,
            value: check.value,
            message: check.message,
          });
          if (alertId !== undefined) changed.push({ kind: "firing", alertId, rule });
        }
      } else if (check.active === false && existing !== undefined) {
        const done = { at: window.end_ms, windowId: window.window_id, value: check.value, message: check.message };
        if (await this.store.resolve(tx, existing.alert_id, done)) {
          changed.push({ kind: "resolved", alertId: existing.alert_id, rule });
        }
      }
    }
    // incidents of rules no longer defined end with the window after the change
    for (const orphan of open.values()) {
      const message = `${orphan.rule_name}: resolved because the rule was removed from the monitor`;
      const done = { at: window.end_ms, windowId: window.window_id, value: null, message };
      if (await this.store.resolve(tx, orphan.alert_id, done)) {
        changed.push({
          kind: "resolved",
          alertId: orphan.alert_id,
          rule: { name: orphan.rule_name, when: orphan.rule_when as AlertRule["when"] },
        });
      }
    }
    const transitions: AlertTransition[] = [];
    for (const c of changed) {
      const transition: AlertTransition = {
        kind: c.kind,
        monitor: def.name,
        model_name: def.model_name,
        model_uri: followedUri(def),
        alert: toAlert(await this.store.alert(tx, c.alertId)),
        rule: c.rule,
        window,
      };
      transitions.push(transition);
      if (def.webhook !== undefined) {
        const payload: Omit<AlertWebhookPayload, "event_id" | "delivered_at"> = {
          kind: `monitor.alert.${c.kind}`,
          monitor: def.name,
          model_name: def.model_name,
          model_uri: transition.model_uri,
          alert: { ...transition.alert, rule_definition: c.rule },
          window,
        };
        await this.store.addEvent(tx, {
          monitorId: stored.id,
          alertId: c.alertId,
          kind: payload.kind,
          payload: JSON.stringify(payload),
          now: this.now(),
        });
      }
    }
    return transitions;
  }

  private async emit(transition: AlertTransition): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener(transition);
      } catch (error) {
        this.deps.log?.(`monitor ${transition.monitor}: an onAlert listener failed`, error);
      }
    }
  }

  // ---------------------------------------------------------------- results

  async windows(name: string, query: Unchecked): Promise<{ windows: MonitorWindowInfo[]; next_page_token?: string }> {
    const stored = await this.stored(name);
    const limit = maxResults(query.max_results);
    const before = decodeToken(query.page_token, isNumber);
    const rows = await this.store.windows(stored.id, before, limit + 1);
    const page = rows.slice(0, limit);
    return {
      windows: page.map((w) => toWindowInfo(w, name)),
      ...(rows.length > limit ? { next_page_token: encodeToken(page.at(-1)!.window_end) } : {}),
    };
  }

  async window(name: string, id: string): Promise<MonitorWindow> {
    const row = await this.windowRow(name, id);
    const summary = parseJsonColumn<WindowSummary | null>(row.summary, null);
    return { ...toWindowInfo(row, name), ...(summary === null ? {} : { summary }) };
  }

  async report(name: string, id: string): Promise<string> {
    const row = await this.windowRow(name, id);
    const html = row.status === "running" ? null : await this.store.report(row.window_id);
    if (html === null) {
      throw notFound(`Window ${row.window_id} of monitor '${name}' has no report yet: it is still being evaluated.`);
    }
    return html;
  }

  async alerts(query: Unchecked, monitorName?: string): Promise<{ alerts: MonitorAlert[]; next_page_token?: string }> {
    const monitor = monitorName === undefined ? undefined : await this.stored(monitorName);
    const limit = maxResults(query.max_results);
    const before = decodeToken(query.page_token, isNumber);
    const rows = await this.store.alerts({
      ...(monitor === undefined ? {} : { monitorId: monitor.id }),
      ...(typeof query.state === "string" ? { state: query.state } : {}),
      ...(before === undefined ? {} : { beforeId: before }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      alerts: page.map(toAlert),
      ...(rows.length > limit ? { next_page_token: encodeToken(page.at(-1)!.alert_id) } : {}),
    };
  }

  // ---------------------------------------------------------------- helpers

  private async windowRow(name: string, id: string): Promise<WindowRow> {
    const stored = await this.stored(name);
    const wanted = windowId(id);
    const row = await this.store.window(stored.id, wanted);
    if (row === undefined) {
      throw notFound(
        wanted === "latest"
          ? `Monitor '${name}' has no evaluated window yet.`
          : `Window ${wanted} of monitor '${name}' not found.`,
      );
    }
    return row;
  }

  private async stored(name: string): Promise<StoredMonitor> {
    const stored = await this.store.byName(name);
    if (stored === undefined) throw notFound(`Monitor '${name}' not found.`);
    return stored;
  }

  private toMonitor(stored: StoredMonitor): Monitor {
    const def: MonitorDefinition = stored.def;
    let next: number | undefined;
    if (def.enabled) {
      try {
        next = parseCron(def.schedule).next(this.now());
      } catch {
        next = undefined;
      }
    }
    return {
      monitor_id: stored.id,
      name: def.name,
      model_name: def.model_name,
      ...(def.model_alias === undefined ? {} : { model_alias: def.model_alias }),
      ...(def.model_version === undefined ? {} : { model_version: def.model_version }),
      window_ms: def.window_ms,
      schedule: def.schedule,
      reference: def.reference,
      drift: def.drift,
      metrics: def.metrics,
      alerts: def.alerts,
      ...(def.webhook === undefined
        ? {}
        : { webhook: { url: def.webhook.url, has_secret: def.webhook.secret !== undefined } }),
      enabled: def.enabled,
      creation_timestamp: stored.created,
      last_updated_timestamp: stored.updated,
      ...(next === undefined ? {} : { next_run_ms: next }),
    };
  }
}
