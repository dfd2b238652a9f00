/**
 * `slipway monitor apply --file slipway.yaml`: monitors declared in a project file, applied like
 * `kubectl apply`: each listed monitor is created or updated to match the file; `--prune` deletes the
 * server's monitors the file does not list; `--dry-run` only prints the plan. The file's syntax mirrors
 * `monitor create`:
 *
 * ```yaml
 * monitors:
 *   - name: spam-drift
 *     model: models:/spam@champion
 *     window: 1h
 *     schedule: "*\/5 * * * *"
 *     reference: model                     # or runs:/RUN_ID/path.jsonl, models:/NAME/VERSION/path
 *     alerts: [drift_share>0.3, acc=metric_drop:accuracy>0.05]
 *     drift: { drift_share: 0.5 }          # passed through: see docs/monitoring.md
 *     metrics: { max_drop: 0.05, positive_label: spam }
 *     webhook: { url: https://hooks.example.com/slipway, secret_env: SPAM_WEBHOOK_SECRET }
 *     enabled: true
 * ```
 * Secrets never sit in the file: `secret_env` names the environment variable holding the webhook secret.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { MlflowError, type AlertRule, type Monitor } from "@slipway/protocol";
import { clientFor, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";
import { api, common, parseAlert, parseFollowed, parseSchedule, parseWindow } from "./monitor.js";

/** The keys of one entry of a project file's `monitors:` list (also listed in the guide's configuration reference). */
export const MONITOR_FILE_KEYS = [
  "name",
  "model",
  "window",
  "schedule",
  "reference",
  "alerts",
  "drift",
  "metrics",
  "webhook",
  "enabled",
];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`${where}: expected a non-empty string`);
  return value;
}

/** The request body of one declared monitor (the server validates what is passed through). */
export function monitorBody(entry: unknown, where: string, env: NodeJS.ProcessEnv = process.env): Json {
  if (!isObject(entry)) throw new UsageError(`${where}: expected a mapping (name, model, window, schedule, …)`);
  for (const key of Object.keys(entry)) {
    if (!MONITOR_FILE_KEYS.includes(key))
      throw new UsageError(`${where}.${key}: unknown key (known: ${MONITOR_FILE_KEYS.join(", ")})`);
  }
  const body: Json = {
    name: text(entry.name, `${where}.name`),
    ...parseFollowed(text(entry.model, `${where}.model`), `${where}.model`),
    window_ms: parseWindow(text(entry.window, `${where}.window`), `${where}.window`),
    schedule: parseSchedule(text(entry.schedule, `${where}.schedule`), `${where}.schedule`),
  };
  if (entry.reference !== undefined && entry.reference !== "model") {
    const uri = text(entry.reference, `${where}.reference`);
    if (!/^(runs|models):\//.test(uri)) {
      throw new UsageError(`${where}.reference: '${uri}' is not model, runs:/RUN_ID/path or models:/NAME/VERSION/path`);
    }
    body.reference = { source: "artifact", uri };
  }
  const alerts: AlertRule[] = [];
  if (entry.alerts !== undefined) {
    if (!Array.isArray(entry.alerts)) throw new UsageError(`${where}.alerts: expected a list`);
    entry.alerts.forEach((rule: unknown, i) => {
      const at = `${where}.alerts[${i}]`;
      alerts.push(
        typeof rule === "string" ? parseAlert(rule, at) : isObject(rule) ? (rule as unknown as AlertRule) : fail(at),
      );
    });
  }
  body.alerts = alerts;
  for (const key of ["drift", "metrics"] as const) {
    if (entry[key] === undefined) continue;
    if (!isObject(entry[key])) throw new UsageError(`${where}.${key}: expected a mapping`);
    body[key] = entry[key];
  }
  if (entry.webhook !== undefined) {
    const webhook = entry.webhook;
    if (!isObject(webhook)) throw new UsageError(`${where}.webhook: expected a mapping with url (and secret_env)`);
    for (const key of Object.keys(webhook)) {
      if (key !== "url" && key !== "secret_env") {
        throw new UsageError(
          `${where}.webhook.${key}: unknown key (url, secret_env; secrets come from the environment)`,
        );
      }
    }
    const url = text(webhook.url, `${where}.webhook.url`);
    let secret: string | undefined;
    if (webhook.secret_env !== undefined) {
      const name = text(webhook.secret_env, `${where}.webhook.secret_env`);
      secret = env[name];
      if (secret === undefined || secret === "") {
        throw new UsageError(`${where}.webhook.secret_env: the environment variable ${name} is not set`);
      }
    }
    body.webhook = { url, ...(secret === undefined ? {} : { secret }) };
  }
  if (entry.enabled !== undefined) {
    if (typeof entry.enabled !== "boolean") throw new UsageError(`${where}.enabled: expected true or false`);
    body.enabled = entry.enabled;
  }
  return body;
}

function fail(where: string): never {
  throw new UsageError(`${where}: expected an alert expression (e.g. drift_share>0.3) or a rule mapping`);
}

/** The monitors of a project file: `{monitors: [...]}`, names unique. */
export function parseMonitorsFile(source: string, file: string, env: NodeJS.ProcessEnv = process.env): Json[] {
  let document: unknown;
  try {
    document = parseYaml(source);
  } catch (error) {
    if (error instanceof YAMLParseError) throw new UsageError(`${file}: ${error.message.split("\n")[0]}`);
    throw error;
  }
  if (!isObject(document) || !Array.isArray(document.monitors)) {
    throw new UsageError(`${file}: expected a top-level 'monitors:' list`);
  }
  const bodies = document.monitors.map((entry: unknown, i) => monitorBody(entry, `${file}: monitors[${i}]`, env));
  const seen = new Set<string>();
  for (const body of bodies) {
    const name = body.name as string;
    if (seen.has(name)) throw new UsageError(`${file}: the monitor name '${name}' is declared twice`);
    seen.add(name);
  }
  return bodies;
}

async function applyAction(flags: ClientFlags & { file: string; prune?: boolean; dryRun?: boolean }): Promise<void> {
  let source: string;
  try {
    source = await readFile(flags.file, "utf8");
  } catch (error) {
    throw new UsageError(
      `--file: cannot read ${flags.file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const bodies = parseMonitorsFile(source, flags.file);
  const client = clientFor(flags);
  const existing = new Map<string, Monitor>();
  let token: string | undefined;
  do {
    const page: { monitors?: Monitor[]; next_page_token?: string } = await api(
      client,
      "GET",
      `/monitors?max_results=1000${token === undefined ? "" : `&page_token=${encodeURIComponent(token)}`}`,
    );
    for (const m of page.monitors ?? []) existing.set(m.name, m);
    token = page.next_page_token;
  } while (token !== undefined);

  const plan: { name: string; action: "create" | "update" | "delete" }[] = [
    ...bodies.map((b) => ({
      name: b.name as string,
      action: existing.has(b.name as string) ? ("update" as const) : ("create" as const),
    })),
    ...(flags.prune === true
      ? [...existing.keys()]
          .filter((n) => !bodies.some((b) => b.name === n))
          .map((name) => ({ name, action: "delete" as const }))
      : []),
  ];
  if (flags.dryRun !== true) {
    for (const step of plan) {
      const body = bodies.find((b) => b.name === step.name);
      try {
        if (step.action === "create") await api(client, "POST", "/monitors", body);
        else if (step.action === "update") {
          const { name: _name, ...update } = body!;
          await api(client, "PATCH", `/monitors/${encodeURIComponent(step.name)}`, {
            ...update,
            ...(update.webhook === undefined ? { webhook: null } : {}),
            ...(update.enabled === undefined ? { enabled: true } : {}),
            ...(update.reference === undefined ? { reference: { source: "model" } } : {}),
          });
        } else await api(client, "DELETE", `/monitors/${encodeURIComponent(step.name)}`);
      } catch (error) {
        if (error instanceof MlflowError)
          throw new UsageError(`monitor '${step.name}' (${step.action}): ${error.message}`);
        throw error;
      }
    }
  }
  const out = stdoutOutput(flags.json === true);
  if (out.json) out.write(JSON.stringify({ dry_run: flags.dryRun === true, plan }));
  else
    out.write(
      plan.length === 0
        ? "nothing to apply"
        : `${table(
            ["MONITOR", flags.dryRun === true ? "WOULD" : "DONE"],
            plan.map((p) => [p.name, flags.dryRun === true ? p.action : `${p.action}d`]),
          )}`,
    );
}

export function registerMonitorApply(monitor: Command): void {
  common(
    monitor
      .command("apply")
      .description("Create or update the monitors declared in a project file (slipway.yaml)")
      .option("--file <file>", "the project file", "slipway.yaml")
      .option("--prune", "also delete the server's monitors the file does not declare")
      .option("--dry-run", "print what would change, change nothing"),
  ).action(applyAction);
}
