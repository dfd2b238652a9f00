/**
 * `slipway deploy`: deployments on the tracking server (`/api/2.0/slipway/deployments`). `create` registers one —
 * the primary (`--model models:/spam@champion`, followed: a move of the alias is a rolling swap), optionally a canary
 * (`--canary models:/spam@challenger --weight 10`, stepped up every `--interval` by `--step` while it stays within
 * `--max-error-rate` / `--max-latency-p99` and does as well as the primary, promoted at 100%, rolled back when a limit
 * is broken) and a shadow (`--shadow …`: a copy of traffic, compared, never returned). `list`, `get` (with traffic per
 * version and the servers following it), `update` (a new canary or shadow), `promote`, `rollback`, `events` (every
 * decision with its reason), `delete`. Model servers follow one with `slipway serve --deployment NAME`.
 * Human tables by default, `--json` for scripts; bad flags exit 2 naming the flag, server errors exit 1.
 */
import type { Command } from "commander";
import type {
  CanaryInput,
  Deployment,
  DeploymentEvent,
  DeploymentUpdate,
  ShadowInput,
  VersionStatsSummary,
} from "@slipway/protocol";
import { DeploymentsClient } from "@slipway/inference";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError, parseDuration } from "../errors.js";
import { formatTime, stdoutOutput, table } from "../output.js";

interface CanaryFlags {
  canary?: string;
  weight?: string;
  step?: string;
  interval?: string;
  maxErrorRate?: string;
  maxLatencyP99?: string;
  minRequests?: string;
  shadow?: string;
  shadowQueue?: string;
}

type CreateFlags = ClientFlags & CanaryFlags & { model: string };
type UpdateFlags = ClientFlags & CanaryFlags & { removeCanary?: boolean; removeShadow?: boolean };

// ---------------------------------------------------------------------------------------------
// Flags

function modelUri(text: string, flag: string): string {
  const uri = text.startsWith("models:/") ? text : `models:/${text}`;
  if (!/^models:\/[^@]+(@[A-Za-z0-9_-]+|\/[1-9]\d*)$/.test(uri)) {
    throw new UsageError(
      `${flag}: '${text}' is not models:/NAME@ALIAS or models:/NAME/VERSION (e.g. models:/spam@champion, models:/spam/3)`,
    );
  }
  return uri;
}

function percentFlag(text: string, flag: string, what: string): number {
  const n = Number(text.trim().replace(/%$/, ""));
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new UsageError(`${flag}: '${text}' is not a number from 0 to 100 (${what})`);
  }
  return n;
}

/** `0.01` or `1%`. */
export function errorRateFlag(text: string, flag = "--max-error-rate"): number {
  const t = text.trim();
  const n = t.endsWith("%") ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (t === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`${flag}: '${text}' is not an error rate from 0 to 1 (or 0% to 100%), e.g. 0.01 or 1%`);
  }
  return n;
}

/** `50ms`, `0.2s`, or a bare number of milliseconds. */
export function latencyFlag(text: string, flag = "--max-latency-p99"): number {
  const t = text.trim();
  const ms = /^\d+(\.\d+)?$/.test(t) ? Number(t) : parseDuration(t, flag);
  if (!(ms >= 0.1 && ms <= 600_000)) {
    throw new UsageError(`${flag}: '${text}' is not a latency from 0.1 ms to 10 minutes (e.g. 50ms, 0.2s)`);
  }
  return ms;
}

function intervalFlag(text: string, flag = "--interval"): number {
  const ms = parseDuration(text, flag);
  if (ms < 1000 || ms > 86_400_000) throw new UsageError(`${flag}: '${text}' is not from 1s to 1d`);
  return Math.round(ms);
}

function intFlag(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: '${text}' is not an integer from ${min} to ${max}`);
  }
  return n;
}

/** The canary and shadow a command's flags describe; canary-only flags without `--canary` are errors. */
export function canaryAndShadow(flags: CanaryFlags): { canary?: CanaryInput; shadow?: ShadowInput } {
  const out: { canary?: CanaryInput; shadow?: ShadowInput } = {};
  const canaryOnly: [keyof CanaryFlags, string][] = [
    ["weight", "--weight"],
    ["step", "--step"],
    ["interval", "--interval"],
    ["maxErrorRate", "--max-error-rate"],
    ["maxLatencyP99", "--max-latency-p99"],
    ["minRequests", "--min-requests"],
  ];
  if (flags.canary === undefined) {
    const stray = canaryOnly.find(([key]) => flags[key] !== undefined);
    if (stray) throw new UsageError(`${stray[1]} applies to a canary: give --canary models:/NAME@ALIAS too`);
  } else {
    if (flags.weight === undefined) {
      throw new UsageError("--canary needs --weight: the percent of requests the canary gets at first (0 to 100)");
    }
    out.canary = {
      model_uri: modelUri(flags.canary, "--canary"),
      weight: percentFlag(flags.weight, "--weight", "the percent of requests sent to the canary"),
      ...(flags.step === undefined
        ? {}
        : { step: percentFlag(flags.step, "--step", "percentage points added at each interval") }),
      ...(flags.interval === undefined ? {} : { interval_ms: intervalFlag(flags.interval) }),
      ...(flags.maxErrorRate === undefined ? {} : { max_error_rate: errorRateFlag(flags.maxErrorRate) }),
      ...(flags.maxLatencyP99 === undefined ? {} : { max_latency_p99_ms: latencyFlag(flags.maxLatencyP99) }),
      ...(flags.minRequests === undefined
        ? {}
        : { min_requests: intFlag(flags.minRequests, "--min-requests", 1, 10_000_000) }),
    };
  }
  if (flags.shadow !== undefined) {
    out.shadow = {
      model_uri: modelUri(flags.shadow, "--shadow"),
      ...(flags.shadowQueue === undefined
        ? {}
        : { max_queue: intFlag(flags.shadowQueue, "--shadow-queue", 1, 100_000) }),
    };
  } else if (flags.shadowQueue !== undefined) {
    throw new UsageError("--shadow-queue applies to a shadow: give --shadow models:/NAME@ALIAS too");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

function pct(weight: number): string {
  return `${Math.round(weight * 100) / 100}%`;
}

function ms(value: number | undefined): string {
  if (value === undefined) return "";
  return value >= 10 ? `${Math.round(value)} ms` : `${value.toFixed(value >= 1 ? 1 : 2)} ms`;
}

function rate(value: number): string {
  const p = value * 100;
  return p === 0 || p === 100 ? `${p}%` : `${p.toFixed(p < 0.1 ? 3 : 1)}%`;
}

function canaryLine(d: Deployment): string | undefined {
  const c = d.canary;
  if (!c) return undefined;
  const limits = [`errors ≤ ${rate(c.max_error_rate)}`];
  if (c.max_latency_p99_ms !== undefined) limits.push(`p99 ≤ ${ms(c.max_latency_p99_ms)}`);
  const plan =
    c.step > 0
      ? `+${pct(c.step)} every ${Math.round(c.interval_ms / 100) / 10}s, at least ${c.min_requests} requests per step`
      : "stepped by hand (step 0)";
  const state = c.state === "running" ? `running at ${pct(c.weight)}` : c.state.replace("_", " ");
  return `${c.model_uri} → v${c.version}  ${state}  (${plan}; limits: ${limits.join(", ")})`;
}

function summary(d: Deployment): string {
  const lines = [`Deployment ${d.name} (${d.strategy})`];
  lines.push(`  primary:  ${d.model_uri} → ${d.primary_version === undefined ? "(unset)" : `v${d.primary_version}`}`);
  const c = canaryLine(d);
  if (c) lines.push(`  canary:   ${c}`);
  if (d.canary?.reason) lines.push(`            last decision: ${d.canary.reason}`);
  if (d.shadow) {
    lines.push(
      `  shadow:   ${d.shadow.model_uri} → v${d.shadow.version}  ${d.shadow.state}${d.shadow.error ? `: ${d.shadow.error}` : ""}`,
    );
  }
  lines.push(`  revision: ${d.revision}   created: ${formatTime(d.creation_timestamp)}`);
  return lines.join("\n");
}

function statsTable(stats: readonly VersionStatsSummary[]): string {
  return table(
    ["ROLE", "VERSION", "REQUESTS", "ERRORS", "ERROR RATE", "P50", "P99", "AGREEMENT", "DROPPED"],
    stats.map((s) => [
      s.role,
      `v${s.version}`,
      s.requests.toLocaleString("en-US"),
      s.errors,
      rate(s.error_rate),
      ms(s.p50_ms),
      ms(s.p99_ms),
      s.agreement === undefined ? "" : rate(s.agreement),
      s.dropped ?? "",
    ]),
  );
}

function eventsTable(events: readonly DeploymentEvent[]): string {
  return table(
    ["TIME", "KIND", "WEIGHT", "VERSION", "REASON"],
    events.map((e) => [
      formatTime(e.created_at),
      e.kind,
      e.from_weight === undefined && e.to_weight === undefined
        ? ""
        : `${e.from_weight === undefined ? "" : `${pct(e.from_weight)} → `}${e.to_weight === undefined ? "" : pct(e.to_weight)}`,
      e.version === undefined ? "" : `v${e.version}`,
      e.reason,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Commands

function api(flags: ClientFlags): DeploymentsClient {
  return new DeploymentsClient(clientFor(flags));
}

async function createAction(name: string, flags: CreateFlags): Promise<void> {
  const body = { name, model_uri: modelUri(flags.model, "--model"), ...canaryAndShadow(flags) };
  const d = await api(flags).create(body);
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ deployment: d }, null, 2));
  out.write(`Created deployment '${d.name}'\n${summary(d)}`);
  out.write(`Serve it: slipway serve --deployment ${d.name} --tracking-uri ${clientFor(flags).trackingUri}`);
}

async function listAction(flags: ClientFlags & { model?: string }): Promise<void> {
  const client = api(flags);
  const all: Deployment[] = [];
  let token: string | undefined;
  do {
    const page = await client.list({
      ...(flags.model === undefined ? {} : { model_name: flags.model }),
      ...(token === undefined ? {} : { page_token: token }),
    });
    all.push(...page.deployments);
    token = page.next_page_token;
  } while (token !== undefined);
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ deployments: all }, null, 2));
  if (all.length === 0) return out.write("No deployments.");
  out.write(
    table(
      ["NAME", "STRATEGY", "PRIMARY", "CANARY", "SHADOW", "UPDATED"],
      all.map((d) => [
        d.name,
        d.strategy,
        `${d.model_uri}${d.primary_version === undefined ? "" : ` (v${d.primary_version})`}`,
        d.canary ? `v${d.canary.version} ${d.canary.state === "running" ? pct(d.canary.weight) : d.canary.state}` : "",
        d.shadow ? `v${d.shadow.version} ${d.shadow.state}` : "",
        formatTime(d.last_updated_timestamp),
      ]),
    ),
  );
}

async function getAction(name: string, flags: ClientFlags): Promise<void> {
  const client = api(flags);
  const d = await client.get(name);
  const { events } = await client.events(name, { max_results: 10 });
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ deployment: d, events }, null, 2));
  const parts = [summary(d)];
  if (d.stats && d.stats.length > 0) parts.push(`\nTraffic at revision ${d.revision}:\n${statsTable(d.stats)}`);
  if (d.servers && d.servers.length > 0) {
    parts.push(
      `\nServers:\n${table(
        ["SERVER", "LAST REPORT", "REVISION", "VERSIONS"],
        d.servers.map((s) => [
          s.server,
          formatTime(s.last_report_at),
          s.revision,
          s.models.map((m) => `${m.role} v${m.version} ${m.state}`).join(", "),
        ]),
      )}`,
    );
  }
  if (events.length > 0) parts.push(`\nRecent decisions:\n${eventsTable(events)}`);
  out.write(parts.join("\n"));
}

async function updateAction(name: string, flags: UpdateFlags): Promise<void> {
  const parsed = canaryAndShadow(flags);
  if (flags.removeCanary && parsed.canary) throw new UsageError("--remove-canary and --canary contradict each other");
  if (flags.removeShadow && parsed.shadow) throw new UsageError("--remove-shadow and --shadow contradict each other");
  const body: DeploymentUpdate = {
    ...(parsed.canary ? { canary: parsed.canary } : flags.removeCanary ? { canary: null } : {}),
    ...(parsed.shadow ? { shadow: parsed.shadow } : flags.removeShadow ? { shadow: null } : {}),
  };
  if (Object.keys(body).length === 0) {
    throw new UsageError("nothing to update: give --canary, --shadow, --remove-canary or --remove-shadow");
  }
  const d = await api(flags).update(name, body);
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ deployment: d }, null, 2));
  out.write(`Updated deployment '${d.name}'\n${summary(d)}`);
}

function decisionAction(kind: "promote" | "rollback") {
  return async (name: string, flags: ClientFlags & { reason?: string }): Promise<void> => {
    const client = api(flags);
    const d = kind === "promote" ? await client.promote(name, flags.reason) : await client.rollback(name, flags.reason);
    const out = stdoutOutput(flags.json === true);
    if (out.json) return out.write(JSON.stringify({ deployment: d }, null, 2));
    const c = d.canary;
    out.write(
      kind === "promote"
        ? `Promoted canary version ${c?.version ?? "?"} of '${d.name}': ${d.model_uri} now → v${d.primary_version ?? "?"}`
        : `Rolled back the canary (version ${c?.version ?? "?"}) of '${d.name}': ${d.model_uri} → v${d.primary_version ?? "?"}`,
    );
  };
}

async function eventsAction(name: string, flags: ClientFlags & { maxResults: string }): Promise<void> {
  const max = intFlag(flags.maxResults, "--max-results", 1, 1000);
  const { events } = await api(flags).events(name, { max_results: max });
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ events }, null, 2));
  out.write(events.length === 0 ? "No events." : eventsTable(events));
}

async function deleteAction(name: string, flags: ClientFlags): Promise<void> {
  await api(flags).delete(name);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? "{}" : `Deleted deployment '${name}' (servers following it keep serving its primary)`);
}

function common(cmd: Command): Command {
  return cmd.option("--tracking-uri <uri>", TRACKING_URI_HELP).option("--json", "machine-readable output");
}

function canaryOptions(cmd: Command): Command {
  return cmd
    .option("--canary <uri>", "a canary: models:/NAME@ALIAS or models:/NAME/VERSION of the primary's model")
    .option("--weight <percent>", "percent of requests the canary gets at first, 0 to 100")
    .option("--step <percent>", "percentage points added every interval while it does well (default 10; 0: by hand)")
    .option("--interval <duration>", "time at each weight before stepping up: 30s, 1m, ... (default 1m)")
    .option("--max-error-rate <rate>", "roll back above this error rate: 0.01 or 1% (default 0.01)")
    .option("--max-latency-p99 <duration>", "roll back above this p99 latency: 50ms, 0.2s (default: no limit)")
    .option("--min-requests <n>", "canary requests needed at a weight before stepping up (default 100)")
    .option("--shadow <uri>", "a shadow: gets a copy of traffic, compared with the primary, never returned")
    .option("--shadow-queue <n>", "copies waiting for the shadow per server before they are dropped (default 1000)");
}

export function registerDeploy(program: Command): void {
  const deploy = program
    .command("deploy")
    .description("Deployments: rolling swap, canary and shadow rollouts that model servers follow");
  common(
    canaryOptions(
      deploy
        .command("create")
        .description("Register a deployment (serve it with: slipway serve --deployment NAME)")
        .argument("<name>", "deployment name: letters, digits, '.', '_', '-'")
        .requiredOption("--model <uri>", "the primary: models:/NAME@ALIAS (followed) or models:/NAME/VERSION"),
    ),
  ).action(createAction);
  common(
    deploy.command("list").description("List deployments").option("--model <name>", "only this registered model's"),
  ).action(listAction);
  common(
    deploy.command("get").description("Show a deployment, its traffic per version and its servers").argument("<name>"),
  ).action(getAction);
  common(
    canaryOptions(
      deploy
        .command("update")
        .description("Start a new canary (when none runs) or shadow, or remove one")
        .argument("<name>")
        .option("--remove-canary", "remove a finished canary")
        .option("--remove-shadow", "stop mirroring traffic to the shadow"),
    ),
  ).action(updateAction);
  common(
    deploy
      .command("promote")
      .description("Promote the canary now: the primary's alias moves to its version")
      .argument("<name>")
      .option("--reason <text>", "why (recorded in the alias history and the event log)"),
  ).action(decisionAction("promote"));
  common(
    deploy
      .command("rollback")
      .description("Roll the canary back: weight 0 (after a promotion: the alias moves back)")
      .argument("<name>")
      .option("--reason <text>", "why (recorded in the event log)"),
  ).action(decisionAction("rollback"));
  common(
    deploy
      .command("events")
      .description("Every decision (created, step, hold, promoted, rolled back, load failures), newest first")
      .argument("<name>")
      .option("--max-results <n>", "at most this many", "100"),
  ).action(eventsAction);
  common(deploy.command("delete").description("Delete a deployment").argument("<name>")).action(deleteAction);
}
