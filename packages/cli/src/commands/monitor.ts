/**
 * `slipway monitor`: monitors on the tracking server (`/api/2.0/slipway/monitors`). `create` defines one (what model
 * to follow, the window, the cron schedule, reference, alert rules, webhook); `list`, `get`, `enable`, `disable`,
 * `delete`; `run` evaluates a window now; `windows` lists stored results; `report` saves a window's HTML report;
 * `alerts` lists alert incidents. Human tables by default, `--json` for scripts; bad flags exit 2 with the flag named.
 */
import type { Command } from "commander";
import {
  ALERT_CONDITIONS,
  MONITOR_METRICS,
  parseJson,
  type AlertRule,
  type Monitor,
  type MonitorAlert,
  type MonitorWindow,
  type MonitorWindowInfo,
} from "@slipway/protocol";
import { writeTextFile, type TrackingClient } from "@slipway/sdk";
import { CronError, parseCron } from "@slipway/server";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { formatTime, stdoutOutput, table } from "../output.js";
import { parseAt, parseModelRef } from "./models.js";

const BASE = "/api/2.0/slipway";

// ---------------------------------------------------------------------------------------------
// Argument parsing

const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m`, `1h`, `1d`, `1w` (also `90m`, `1.5h`) in milliseconds: at least a minute. */
export function parseWindow(text: string, flag = "--window"): number {
  const m = /^(\d+(?:\.\d+)?)(m|h|d|w)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not a duration (examples: 30m, 1h, 6h, 1d, 1w)`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
  if (ms < 60_000) throw new UsageError(`${flag}: '${text}' is shorter than a minute`);
  if (ms > 366 * 86_400_000) throw new UsageError(`${flag}: '${text}' is longer than 366 days`);
  return ms;
}

/** A duration in the largest unit that divides it: 3600000 → `1h`. */
export function formatWindow(ms: number): string {
  for (const unit of ["w", "d", "h", "m"]) {
    const size = DURATION_UNITS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function parseSchedule(text: string, flag = "--schedule"): string {
  try {
    return parseCron(text).expression;
  } catch (error) {
    if (error instanceof CronError) throw new UsageError(`${flag}: '${text}': ${error.message}`);
    throw error;
  }
}

/** `models:/NAME@ALIAS` or `models:/NAME/VERSION` (the prefix is optional). */
export function parseFollowed(
  text: string,
  flag = "--model",
): { model_name: string; model_alias?: string; model_version?: string } {
  let ref;
  try {
    ref = parseModelRef(text);
  } catch {
    throw new UsageError(
      `${flag}: '${text}' is not models:/NAME@ALIAS or models:/NAME/VERSION (e.g. models:/spam@champion)`,
    );
  }
  if ("alias" in ref) return { model_name: ref.name, model_alias: ref.alias };
  if ("version" in ref) return { model_name: ref.name, model_version: ref.version };
  throw new UsageError(`${flag}: '${text}': a monitor follows an alias or a version, not a stage`);
}

const ALERT_SYNTAX =
  "[NAME=]CONDITION[:ARG][OP NUMBER], e.g. drift_share>0.3, dataset_drift, feature_drift:age, metric_drop:accuracy>0.05, latency_p99_ms>250, min_rows<100, error_rate>0.01";

/** The conditions that need a threshold, with an example of one. */
const THRESHOLD_EXAMPLES: Partial<Record<AlertRule["when"], string>> = {
  drift_share: ">0.3",
  latency_p99_ms: ">250",
  min_rows: "<100",
  error_rate: ">0.01",
};

/** One `--alert`: see ALERT_SYNTAX. The rule's name defaults to the expression itself. */
export function parseAlert(text: string, flag = "--alert"): AlertRule {
  const m = /^(?:([A-Za-z0-9_.-]+)=(?!=))?([a-z_0-9]+)(?::([^<>=]+))?(?:(>=|<=|>|<)\s*([^<>=\s]+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not ${ALERT_SYNTAX}`);
  const [, name, when, arg, op, value] = m;
  if (!(ALERT_CONDITIONS as readonly string[]).includes(when!)) {
    throw new UsageError(`${flag}: '${text}': '${when}' is not one of ${ALERT_CONDITIONS.join(", ")}`);
  }
  const rule: AlertRule = { name: name ?? text.trim(), when: when as AlertRule["when"] };
  if (arg !== undefined) {
    if (rule.when === "metric_drop") {
      if (!(MONITOR_METRICS as readonly string[]).includes(arg)) {
        throw new UsageError(`${flag}: '${text}': the metric '${arg}' is not one of ${MONITOR_METRICS.join(", ")}`);
      }
      rule.metric = arg as AlertRule["metric"];
    } else if (rule.when === "feature_drift") rule.feature = arg;
    else throw new UsageError(`${flag}: '${text}': only feature_drift:FEATURE and metric_drop:METRIC take an argument`);
  } else if (rule.when === "metric_drop") {
    throw new UsageError(`${flag}: '${text}': name the metric, e.g. metric_drop:accuracy>0.05`);
  }
  if (op !== undefined) {
    const threshold = Number(value);
    if (!Number.isFinite(threshold)) throw new UsageError(`${flag}: '${text}': '${value}' is not a number`);
    rule.op = op as AlertRule["op"];
    rule.threshold = threshold;
  } else if (rule.when in THRESHOLD_EXAMPLES) {
    throw new UsageError(
      `${flag}: '${text}': ${rule.when} needs a threshold, e.g. ${rule.when}${THRESHOLD_EXAMPLES[rule.when]}`,
    );
  }
  return rule;
}

function numberFlag(text: string | undefined, flag: string, range: [number, number]): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < range[0] || n > range[1]) {
    throw new UsageError(`${flag}: '${text}' is not a number between ${range[0]} and ${range[1]}`);
  }
  return n;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: '${text}' is not a positive integer`);
  return n;
}

function timeFlag(text: string, flag: string): number {
  if (text.trim() === "now") return Date.now();
  try {
    return parseAt(text);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message.replace(/^--at:/, `${flag}:`));
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export async function api<T>(
  client: TrackingClient,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
): Promise<T> {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return client.transport.request({
    method,
    path: `${BASE}${path}`,
    headers: { accept: "application/json", ...(json === undefined ? {} : { "content-type": "application/json" }) },
    ...(json === undefined ? {} : { body: () => json }),
    read: async (response) => {
      const text = await response.text();
      return (text.trim() === "" ? {} : parseJson(text)) as T;
    },
  });
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// Rendering

function num(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return "";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

function followed(m: Monitor): string {
  return m.model_alias !== undefined ? `${m.model_name}@${m.model_alias}` : `${m.model_name}/${m.model_version ?? ""}`;
}

function ruleText(rule: AlertRule): string {
  const arg = rule.feature ?? rule.metric;
  const cond = `${rule.when}${arg === undefined ? "" : `:${arg}`}${rule.threshold === undefined ? "" : `${rule.op ?? ""}${rule.threshold}`}`;
  return cond === rule.name ? cond : `${rule.name}=${cond}`;
}

function monitorsTable(monitors: readonly Monitor[]): string {
  return table(
    ["NAME", "MODEL", "WINDOW", "SCHEDULE", "ENABLED", "ALERTS", "NEXT RUN"],
    monitors.map((m) => [
      m.name,
      followed(m),
      formatWindow(m.window_ms),
      m.schedule,
      m.enabled ? "yes" : "no",
      m.alerts.length,
      formatTime(m.next_run_ms),
    ]),
  );
}

function monitorText(m: Monitor): string {
  const lines = [
    `${m.name}: models:/${followed(m)}, window ${formatWindow(m.window_ms)}, schedule "${m.schedule}" (UTC), ${m.enabled ? "enabled" : "disabled"}`,
    `  reference: ${m.reference.source === "model" ? "reference_data.jsonl of the served version" : m.reference.uri}`,
  ];
  if (Object.keys(m.drift).length > 0) lines.push(`  drift: ${JSON.stringify(m.drift)}`);
  if (Object.keys(m.metrics).length > 0) lines.push(`  metrics: ${JSON.stringify(m.metrics)}`);
  lines.push(`  alerts: ${m.alerts.length === 0 ? "none" : m.alerts.map(ruleText).join(", ")}`);
  if (m.webhook !== undefined) lines.push(`  webhook: ${m.webhook.url}${m.webhook.has_secret ? " (signed)" : ""}`);
  if (m.next_run_ms !== undefined) lines.push(`  next run: ${formatTime(m.next_run_ms)}`);
  return lines.join("\n");
}

function windowsTable(windows: readonly MonitorWindowInfo[]): string {
  return table(
    ["ID", "END", "STATUS", "VERSIONS", "ROWS", "LABELLED", "DRIFT", "SHARE", "ACCURACY", "P99 MS", "5XX", "ERROR"],
    windows.map((w) => [
      w.window_id,
      formatTime(w.end_ms),
      w.status,
      w.versions.join(","),
      w.rows,
      w.labelled,
      w.dataset_drift === undefined ? "" : w.dataset_drift ? "yes" : "no",
      num(w.share),
      num(w.metrics.accuracy),
      num(w.metrics.latency_p99_ms, 1),
      num(w.metrics.error_rate, 4),
      w.error ?? "",
    ]),
  );
}

function windowText(w: MonitorWindow): string {
  const s = w.summary;
  const lines = [
    `window ${w.window_id}: ${formatTime(w.start_ms)} – ${formatTime(w.end_ms)}: ${w.status}, ${w.rows} rows (${w.labelled} labelled), versions ${w.versions.join(", ") || "none"}`,
  ];
  if (w.error !== undefined) lines.push(`error: ${w.error}`);
  if (s?.feature_drift !== undefined) {
    const d = s.feature_drift;
    lines.push(
      `feature drift: ${d.dataset_drift ? "YES" : "no"} (${d.drifted_columns} of ${d.tested_columns} features, share ${num(d.share)}, dataset drift at ≥ ${num(d.drift_share)})`,
      table(
        ["FEATURE", "TYPE", "TEST", "SCORE", "THRESHOLD", "DRIFT"],
        d.columns.map((c) => [
          c.column,
          c.type,
          c.test ?? "",
          num(c.score, 4),
          `${c.comparison ?? ""} ${num(c.threshold, 4)}`,
          c.drift === null ? "not tested" : c.drift ? "yes" : "no",
        ]),
      ),
    );
  }
  if (s?.prediction_drift !== undefined) {
    const d = s.prediction_drift;
    lines.push(
      `prediction drift: ${d.dataset_drift ? "YES" : "no"} (${d.columns.map((c) => `${c.column} ${c.drift === null ? "not tested" : c.drift ? "drifted" : "ok"}`).join(", ")})`,
    );
  }
  if (s?.performance !== undefined) {
    const p = s.performance;
    lines.push(
      `performance on ${p.labelled} labelled rows: ${Object.entries(p.metrics)
        .map(
          ([k, m]) =>
            `${k} ${num(m.value)}${m.baseline === null ? "" : ` (baseline ${num(m.baseline)}${m.degraded ? ", DEGRADED" : ""})`}`,
        )
        .join(", ")}`,
    );
  }
  if (s?.latency !== undefined)
    lines.push(`latency: p50 ${num(s.latency.p50_ms, 1)} ms, p99 ${num(s.latency.p99_ms, 1)} ms`);
  if (s?.errors !== undefined) {
    const e = s.errors;
    lines.push(
      `requests: ${e.requests}, 5xx ${e.server_errors} (error rate ${num(e.error_rate, 4)}), 4xx ${e.client_errors} (client error rate ${num(e.client_error_rate, 4)})`,
    );
  }
  for (const a of s?.alerts ?? [])
    lines.push(`alert ${a.active === true ? "FIRING" : a.active === false ? "ok" : "unknown"}: ${a.message}`);
  for (const f of s?.findings ?? [])
    lines.push(`finding: ${f.column === undefined ? "" : `${f.column}: `}${f.message}`);
  return lines.join("\n");
}

function alertsTable(alerts: readonly MonitorAlert[]): string {
  return table(
    ["ID", "MONITOR", "RULE", "STATE", "STARTED", "RESOLVED", "VALUE", "MESSAGE"],
    alerts.map((a) => [
      a.alert_id,
      a.monitor,
      a.rule,
      a.state,
      formatTime(a.started_at),
      formatTime(a.resolved_at),
      num(a.last_value),
      a.message,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Actions

interface CreateFlags extends ClientFlags {
  name: string;
  model: string;
  window: string;
  schedule: string;
  reference?: string;
  alert?: string[];
  webhook?: string;
  webhookSecret?: string;
  driftShare?: string;
  driftMethod?: string;
  maxDrop?: string;
  positiveLabel?: string;
  disabled?: boolean;
}

async function createAction(flags: CreateFlags): Promise<void> {
  if (flags.webhookSecret !== undefined && flags.webhook === undefined) {
    throw new UsageError("--webhook-secret needs --webhook URL");
  }
  if (flags.webhook !== undefined && !/^https?:\/\/\S+$/.test(flags.webhook)) {
    throw new UsageError(`--webhook: '${flags.webhook}' is not an http(s) URL`);
  }
  const reference =
    flags.reference === undefined || flags.reference === "model"
      ? undefined
      : /^(runs|models):\//.test(flags.reference)
        ? { source: "artifact" as const, uri: flags.reference }
        : (() => {
            throw new UsageError(
              `--reference: '${flags.reference}' is not runs:/RUN_ID/path or models:/NAME/VERSION/path (or 'model')`,
            );
          })();
  const alerts = (flags.alert ?? []).map((rule) => parseAlert(rule));
  const names = new Set<string>();
  for (const rule of alerts) {
    if (names.has(rule.name))
      throw new UsageError(`--alert: the rule name '${rule.name}' is used twice (name them: NAME=...)`);
    names.add(rule.name);
  }
  const driftShare = numberFlag(flags.driftShare, "--drift-share", [0, 1]);
  const maxDrop = numberFlag(flags.maxDrop, "--max-drop", [0, 1]);
  const body = {
    name: flags.name,
    ...parseFollowed(flags.model),
    window_ms: parseWindow(flags.window),
    schedule: parseSchedule(flags.schedule),
    ...(reference === undefined ? {} : { reference }),
    ...(driftShare === undefined && flags.driftMethod === undefined
      ? {}
      : {
          drift: {
            ...(driftShare === undefined ? {} : { drift_share: driftShare }),
            ...(flags.driftMethod === undefined ? {} : { method: flags.driftMethod }),
          },
        }),
    ...(maxDrop === undefined && flags.positiveLabel === undefined
      ? {}
      : {
          metrics: {
            ...(maxDrop === undefined ? {} : { max_drop: maxDrop }),
            ...(flags.positiveLabel === undefined ? {} : { positive_label: flags.positiveLabel }),
          },
        }),
    alerts,
    ...(flags.webhook === undefined
      ? {}
      : {
          webhook: {
            url: flags.webhook,
            ...(flags.webhookSecret === undefined ? {} : { secret: flags.webhookSecret }),
          },
        }),
    enabled: flags.disabled !== true,
  };
  const { monitor } = await api<{ monitor: Monitor }>(clientFor(flags), "POST", "/monitors", body);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(monitor) : `created monitor ${monitorText(monitor)}`);
}

async function listAction(flags: ClientFlags & { model?: string }): Promise<void> {
  const client = clientFor(flags);
  const monitors: Monitor[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ max_results: "1000" });
    if (flags.model !== undefined) query.set("model_name", flags.model);
    if (token !== undefined) query.set("page_token", token);
    const page = await api<{ monitors: Monitor[]; next_page_token?: string }>(
      client,
      "GET",
      `/monitors?${query.toString()}`,
    );
    monitors.push(...page.monitors);
    token = page.next_page_token;
  } while (token !== undefined);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(monitors) : monitors.length === 0 ? "no monitors" : monitorsTable(monitors));
}

async function getAction(name: string, flags: ClientFlags): Promise<void> {
  const { monitor } = await api<{ monitor: Monitor }>(clientFor(flags), "GET", `/monitors/${enc(name)}`);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(monitor) : monitorText(monitor));
}

function enableAction(enabled: boolean) {
  return async (name: string, flags: ClientFlags): Promise<void> => {
    const { monitor } = await api<{ monitor: Monitor }>(clientFor(flags), "PATCH", `/monitors/${enc(name)}`, {
      enabled,
    });
    const out = stdoutOutput(flags.json === true);
    out.write(out.json ? JSON.stringify(monitor) : `${enabled ? "enabled" : "disabled"} monitor ${name}`);
  };
}

async function deleteAction(name: string, flags: ClientFlags): Promise<void> {
  await api(clientFor(flags), "DELETE", `/monitors/${enc(name)}`);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify({ deleted: name }) : `deleted monitor ${name} with its windows and alerts`);
}

async function runAction(name: string, flags: ClientFlags & { end?: string }): Promise<void> {
  const end = flags.end === undefined ? undefined : timeFlag(flags.end, "--end");
  const { window } = await api<{ window: MonitorWindow }>(
    clientFor(flags),
    "POST",
    `/monitors/${enc(name)}/run`,
    end === undefined ? {} : { end_ms: end },
  );
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(window) : windowText(window));
}

async function windowsAction(name: string, flags: ClientFlags & { maxResults: string }): Promise<void> {
  const max = positiveInt(flags.maxResults, "--max-results");
  const client = clientFor(flags);
  const windows: MonitorWindowInfo[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ max_results: String(Math.min(1000, max - windows.length)) });
    if (token !== undefined) query.set("page_token", token);
    const page = await api<{ windows: MonitorWindowInfo[]; next_page_token?: string }>(
      client,
      "GET",
      `/monitors/${enc(name)}/windows?${query.toString()}`,
    );
    windows.push(...page.windows);
    token = page.next_page_token;
  } while (token !== undefined && windows.length < max);
  const out = stdoutOutput(flags.json === true);
  out.write(
    out.json
      ? JSON.stringify(windows)
      : windows.length === 0
        ? `monitor ${name} has no windows yet`
        : windowsTable(windows),
  );
}

async function reportAction(name: string, flags: ClientFlags & { window?: string; out: string }): Promise<void> {
  const id = flags.window === undefined ? "latest" : String(positiveInt(flags.window, "--window"));
  const client = clientFor(flags);
  const html = await client.transport.request({
    method: "GET",
    path: `${BASE}/monitors/${enc(name)}/windows/${id}/report`,
    headers: { accept: "text/html" },
    read: (response) => response.text(),
  });
  await writeTextFile(flags.out, html);
  const out = stdoutOutput(flags.json === true);
  out.write(
    out.json
      ? JSON.stringify({ monitor: name, window: id, out: flags.out, bytes: Buffer.byteLength(html) })
      : `wrote ${flags.out} (monitor ${name}, window ${id})`,
  );
}

async function alertsAction(
  name: string | undefined,
  flags: ClientFlags & { state?: string; maxResults: string },
): Promise<void> {
  if (flags.state !== undefined && flags.state !== "firing" && flags.state !== "resolved") {
    throw new UsageError(`--state: '${flags.state}' is not firing or resolved`);
  }
  const max = positiveInt(flags.maxResults, "--max-results");
  const client = clientFor(flags);
  const alerts: MonitorAlert[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ max_results: String(Math.min(1000, max - alerts.length)) });
    if (flags.state !== undefined) query.set("state", flags.state);
    if (token !== undefined) query.set("page_token", token);
    const path = name === undefined ? "/alerts" : `/monitors/${enc(name)}/alerts`;
    const page = await api<{ alerts: MonitorAlert[]; next_page_token?: string }>(
      client,
      "GET",
      `${path}?${query.toString()}`,
    );
    alerts.push(...page.alerts);
    token = page.next_page_token;
  } while (token !== undefined && alerts.length < max);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(alerts) : alerts.length === 0 ? "no alerts" : alertsTable(alerts));
}

// ---------------------------------------------------------------------------------------------

export function common(cmd: Command): Command {
  return cmd.option("--tracking-uri <uri>", TRACKING_URI_HELP).option("--json", "machine-readable output");
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Registers `slipway monitor …` and returns the command (`monitor apply` adds itself to it). */
export function registerMonitor(program: Command): Command {
  const monitor = program
    .command("monitor")
    .description(
      "Monitors: scheduled drift, performance, latency and error-rate checks of a served model, with alerts",
    );

  common(
    monitor
      .command("create")
      .description("Define a monitor on the tracking server")
      .requiredOption("--name <name>", "unique monitor name")
      .requiredOption("--model <uri>", "what to follow: models:/NAME@ALIAS or models:/NAME/VERSION")
      .requiredOption("--window <duration>", "each evaluation reads this much traffic: 30m, 1h, 1d, ...")
      .requiredOption("--schedule <cron>", 'when to evaluate, 5-field cron in UTC, e.g. "*/5 * * * *"')
      .option(
        "--reference <uri>",
        "reference data: runs:/RUN_ID/path or models:/NAME/VERSION/path (JSON Lines, CSV, ...); default: reference_data.jsonl of the served version",
      )
      .option("--alert <rule>", `an alert rule, repeatable: ${ALERT_SYNTAX}`, collect)
      .option("--webhook <url>", "POST alert transitions (firing, resolved) here")
      .option("--webhook-secret <secret>", "sign webhook deliveries (X-Slipway-Signature, HMAC-SHA256)")
      .option("--drift-share <x>", "dataset drift when at least this share of features drifted (default 0.5)")
      .option("--drift-method <name>", "one drift method for every feature (default: Slipway's choice per column)")
      .option("--max-drop <x>", "a metric is degraded when it is this much below its baseline (default 0.05)")
      .option("--positive-label <label>", "the positive class for F1 and ROC AUC")
      .option("--disabled", "create it disabled (no scheduled evaluations)"),
  ).action(createAction);

  common(
    monitor.command("list").description("List monitors").option("--model <name>", "only monitors of this model"),
  ).action(listAction);
  common(monitor.command("get").description("Show a monitor").argument("<name>", "monitor")).action(getAction);
  common(monitor.command("enable").description("Resume scheduled evaluations").argument("<name>", "monitor")).action(
    enableAction(true),
  );
  common(monitor.command("disable").description("Pause scheduled evaluations").argument("<name>", "monitor")).action(
    enableAction(false),
  );
  common(
    monitor.command("delete").description("Delete a monitor with its windows and alerts").argument("<name>", "monitor"),
  ).action(deleteAction);
  common(
    monitor
      .command("run")
      .description("Evaluate a window now (again, if it was evaluated before)")
      .argument("<name>", "monitor")
      .option("--end <time>", "the window's end: ISO 8601, epoch ms or now (default now)"),
  ).action(runAction);
  common(
    monitor
      .command("windows")
      .description("List a monitor's evaluated windows, newest first")
      .argument("<name>", "monitor")
      .option("--max-results <n>", "at most this many", "100"),
  ).action(windowsAction);
  common(
    monitor
      .command("report")
      .description("Save a window's HTML report")
      .argument("<name>", "monitor")
      .option("--window <id>", "window id (default: the newest)")
      .requiredOption("--out <file>", "where to write the HTML"),
  ).action(reportAction);
  common(
    monitor
      .command("alerts")
      .description("List alert incidents, newest first (of one monitor, or of all)")
      .argument("[name]", "monitor")
      .option("--state <state>", "firing or resolved")
      .option("--max-results <n>", "at most this many", "100"),
  ).action(alertsAction);
  return monitor;
}
