/**
 * `slipway models`: the model registry from the command line. MLflow's registry API for list, versions,
 * register and alias; Slipway's alias history for `history`; `describe` follows a version's lineage
 * (version → source → run → the run's datasets).
 */
import type { Command } from "commander";
import {
  MlflowError,
  MODEL_VERSION_STAGES,
  type AliasHistoryEntry,
  type AliasHistoryResponse,
  type DatasetInput,
  type ModelVersion,
  type RegisteredModel,
  type Run,
} from "@slipway/protocol";
import { aliasHistory, loadModelPackage, withReason, type TrackingClient } from "@slipway/sdk";
import { cp } from "node:fs/promises";
import { resolve } from "node:path";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { registerGenerateDockerfile } from "./generate-dockerfile.js";
import { formatTime, stdoutOutput, table } from "../output.js";

// ---------------------------------------------------------------------------------------------
// Argument parsing

/** A version number as typed: `3` or `v3`. */
export function parseVersionArg(text: string, what = "VERSION"): string {
  const m = /^[vV]?(\d+)$/.exec(text.trim());
  if (!m || !Number.isSafeInteger(Number(m[1]))) {
    throw new UsageError(`${what}: '${text}' is not a version number (examples: 3, v3)`);
  }
  return String(Number(m[1]));
}

const ISO_DATE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** `YYYY-MM-DD` names a day of the calendar (Date.parse reads 2026-02-30 as 2 March). */
function realDate(text: string): boolean {
  const [y, m, d] = text.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * `--at`: epoch milliseconds, or an ISO 8601 date or date-time. A date-time without an offset is UTC, like a date
 * alone (`2026-03-03` is its midnight, UTC).
 */
export function parseAt(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const ms = Number(t);
    if (Number.isSafeInteger(ms)) return ms;
  }
  const m = ISO_DATE.exec(t);
  const ms = m && realDate(m[1]!) ? Date.parse(m[2] === undefined ? m[1]! : `${m[1]}T${m[2]}${m[3] ?? "Z"}`) : NaN;
  if (Number.isNaN(ms) || ms < 0) {
    throw new UsageError(
      `--at: '${text}' is not a time (examples: 2026-03-03, 2026-03-03T12:00:00Z, 2026-03-03T14:00+02:00, epoch milliseconds)`,
    );
  }
  return ms;
}

export type ModelRef =
  | { name: string; alias: string }
  | { name: string; version: string }
  | { name: string; stage: (typeof MODEL_VERSION_STAGES)[number] };

/** `NAME@ALIAS`, `NAME/VERSION` or `NAME/STAGE`, optionally as a `models:/` URI. */
export function parseModelRef(spec: string): ModelRef {
  const text = spec.startsWith("models:/") ? spec.slice("models:/".length) : spec;
  const slash = /^(.+)\/([^/]+)$/.exec(text);
  if (slash) {
    const name = slash[1]!;
    const tail = slash[2]!;
    if (/^[vV]?\d+$/.test(tail)) return { name, version: parseVersionArg(tail) };
    const stage = MODEL_VERSION_STAGES.find((s) => s.toLowerCase() === tail.toLowerCase());
    if (stage) return { name, stage };
  }
  const at = /^(.+)@([^@/]+)$/.exec(text);
  if (at) return { name: at[1]!, alias: at[2]! };
  throw new UsageError(
    `'${spec}' does not name a model version: use NAME@ALIAS, NAME/VERSION or NAME/STAGE (e.g. churn@champion, churn/3)`,
  );
}

/** The run id of a `runs:/<run_id>/<path>` source, undefined for any other URI; a broken `runs:` URI is a usage error. */
export function runIdOfSource(source: string): string | undefined {
  if (!/^runs:/i.test(source)) return undefined;
  const m = /^runs:\/([^/]+)(?:\/.*)?$/.exec(source);
  if (!m) throw new UsageError(`SOURCE: '${source}' is not a runs:/<run_id>/<path> URI`);
  return m[1];
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag}: '${text}' is not a positive integer`);
  return n;
}

/** A string literal of MLflow's filter language. */
function quoteFilter(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof MlflowError && error.code === code;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const v = (version: string | undefined): string => (version === undefined ? "-" : `v${version}`);

function oneLine(text: string | undefined): string {
  return (text ?? "").replace(/\s*\n\s*/g, " ");
}

function latestVersion(model: RegisteredModel): string {
  const versions = (model.latest_versions ?? []).map((mv) => Number(mv.version));
  return versions.length === 0 ? "" : `v${Math.max(...versions)}`;
}

function modelsTable(models: readonly RegisteredModel[]): string {
  return table(
    ["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"],
    models.map((m) => [
      m.name,
      latestVersion(m),
      (m.aliases ?? []).map((a) => `${a.alias} → v${a.version}`).join(", "),
      formatTime(m.last_updated_timestamp),
      oneLine(m.description),
    ]),
  );
}

function versionsTable(versions: readonly ModelVersion[]): string {
  return table(
    ["VERSION", "STAGE", "ALIASES", "STATUS", "CREATED", "RUN ID", "SOURCE"],
    versions.map((mv) => [
      `v${mv.version}`,
      mv.current_stage,
      (mv.aliases ?? []).join(", "),
      mv.status,
      formatTime(mv.creation_timestamp),
      mv.run_id ?? "",
      mv.source,
    ]),
  );
}

function historyTable(history: readonly AliasHistoryEntry[]): string {
  return table(
    ["CHANGED", "KIND", "ALIAS", "FROM", "TO", "USER", "REASON"],
    history.map((e) => [
      formatTime(e.changed_at),
      e.kind,
      e.alias,
      v(e.from_version),
      v(e.to_version),
      e.user_id ?? "",
      oneLine(e.reason),
    ]),
  );
}

function pointedAt(at: number, res: AliasHistoryResponse): string {
  const lines = [
    ...Object.entries(res.at ?? {}).map(([alias, version]) => `  ${alias} → v${version}`),
    ...Object.entries(res.at_stages ?? {}).map(([stage, version]) => `  stage ${stage} → v${version}`),
  ];
  const when = new Date(at).toISOString();
  return lines.length === 0
    ? `At ${when} no alias or stage pointed to a version.`
    : [`At ${when}:`, ...lines].join("\n");
}

function refText(ref: ModelRef): string {
  if ("alias" in ref) return `${ref.name}@${ref.alias}`;
  if ("version" in ref) return `${ref.name}/${ref.version}`;
  return `${ref.name}/${ref.stage}`;
}

// ---------------------------------------------------------------------------------------------
// Actions

type JsonFlags = ClientFlags;

async function listAction(flags: JsonFlags & { filter?: string; maxResults: string }): Promise<void> {
  const max = positiveInt(flags.maxResults, "--max-results");
  const client = clientFor(flags);
  const models: RegisteredModel[] = [];
  let token: string | undefined;
  do {
    const page = await client.searchRegisteredModels({
      max_results: Math.min(max - models.length, 1000),
      ...(flags.filter === undefined ? {} : { filter: flags.filter }),
      ...(token === undefined ? {} : { page_token: token }),
    });
    models.push(...(page.registered_models ?? []));
    token = page.next_page_token || undefined;
  } while (token !== undefined && models.length < max);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(models) : modelsTable(models));
}

async function allVersions(client: TrackingClient, name: string): Promise<ModelVersion[]> {
  const versions: ModelVersion[] = [];
  let token: string | undefined;
  do {
    const page = await client.searchModelVersions({
      filter: `name = ${quoteFilter(name)}`,
      order_by: ["version_number DESC"],
      max_results: 10_000,
      ...(token === undefined ? {} : { page_token: token }),
    });
    versions.push(...(page.model_versions ?? []));
    token = page.next_page_token || undefined;
  } while (token !== undefined);
  return versions;
}

async function versionsAction(name: string, flags: JsonFlags): Promise<void> {
  const client = clientFor(flags);
  await client.getRegisteredModel({ name }); // RESOURCE_DOES_NOT_EXIST for an unknown model, not an empty list
  const versions = await allVersions(client, name);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(versions) : versionsTable(versions));
}

async function registerAction(
  source: string,
  name: string,
  flags: JsonFlags & { runId?: string; description?: string },
): Promise<void> {
  if (source.trim() === "") throw new UsageError("SOURCE must not be empty");
  const fromUri = runIdOfSource(source);
  if (flags.runId !== undefined && fromUri !== undefined && flags.runId !== fromUri) {
    throw new UsageError(`--run-id ${flags.runId} does not match the run of ${source}`);
  }
  const runId = flags.runId ?? fromUri;
  const client = clientFor(flags);
  let createdModel = false;
  try {
    await client.getRegisteredModel({ name });
  } catch (error) {
    if (!isCode(error, "RESOURCE_DOES_NOT_EXIST")) throw error;
    try {
      await client.createRegisteredModel({ name });
      createdModel = true;
    } catch (raced) {
      // another client created it in between: register into it
      if (!isCode(raced, "RESOURCE_ALREADY_EXISTS")) throw raced;
    }
  }
  const { model_version } = await client.createModelVersion({
    name,
    source,
    ...(runId === undefined ? {} : { run_id: runId }),
    ...(flags.description === undefined ? {} : { description: flags.description }),
  });
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify({ created_model: createdModel, model_version }));
  const lines = createdModel ? [`Created registered model '${name}'`] : [];
  lines.push(`Registered '${name}' version ${model_version.version} from ${source}`);
  out.write(lines.join("\n"));
}

/** The version an alias points to now, or undefined when it is not set (MLflow answers 400 then). */
async function currentAlias(client: TrackingClient, name: string, alias: string): Promise<string | undefined> {
  try {
    return (await client.getModelVersionByAlias({ name, alias })).model_version.version;
  } catch (error) {
    if (isCode(error, "INVALID_PARAMETER_VALUE")) return undefined;
    throw error;
  }
}

async function aliasAction(
  name: string,
  alias: string,
  versionArg: string | undefined,
  flags: JsonFlags & { reason?: string; delete?: boolean },
): Promise<void> {
  if (flags.delete && versionArg !== undefined) {
    throw new UsageError(`give either VERSION or --delete, not both (models alias ${name} ${alias} --delete)`);
  }
  if (!flags.delete && versionArg === undefined) {
    throw new UsageError(`VERSION is missing (models alias ${name} ${alias} VERSION, or --delete to remove it)`);
  }
  const version = versionArg === undefined ? undefined : parseVersionArg(versionArg);
  if (flags.reason !== undefined && flags.reason.trim() === "") throw new UsageError("--reason must not be empty");
  const client = clientFor(flags);
  const options = flags.reason === undefined ? {} : withReason(flags.reason);
  const before = await currentAlias(client, name, alias);
  if (version === undefined) await client.deleteRegisteredModelAlias({ name, alias }, options);
  else await client.setRegisteredModelAlias({ name, alias, version }, options);
  const out = stdoutOutput(flags.json === true);
  if (out.json) {
    return out.write(
      JSON.stringify({
        name,
        alias,
        ...(before === undefined ? {} : { from_version: before }),
        ...(version === undefined ? {} : { to_version: version }),
        ...(flags.reason === undefined ? {} : { reason: flags.reason }),
      }),
    );
  }
  if (version === undefined) {
    out.write(
      before === undefined
        ? `Alias '${alias}' of '${name}' was not set; nothing to delete`
        : `Deleted alias '${alias}' of '${name}' (was v${before})`,
    );
  } else {
    out.write(`${name}@${alias}: ${v(before)} → v${version}`);
  }
}

async function historyAction(name: string, flags: JsonFlags & { alias?: string; at?: string }): Promise<void> {
  const at = flags.at === undefined ? undefined : parseAt(flags.at);
  if (flags.alias !== undefined && flags.alias.trim() === "") throw new UsageError("--alias must not be empty");
  const res = await aliasHistory(clientFor(flags), {
    name,
    ...(flags.alias === undefined ? {} : { alias: flags.alias }),
    ...(at === undefined ? {} : { at }),
    pageSize: 1000,
  });
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify(res));
  const parts = [
    res.history.length === 0
      ? `No alias or stage changes recorded for '${name}'${flags.alias === undefined ? "" : ` (alias ${flags.alias})`}.`
      : historyTable(res.history),
  ];
  if (at !== undefined) parts.push("", pointedAt(at, res));
  out.write(parts.join("\n"));
}

interface Lineage {
  model_version: ModelVersion;
  artifact_uri: string;
  run_id: string | null;
  run: Run | null;
  datasets: DatasetInput[];
}

async function resolveVersion(client: TrackingClient, ref: ModelRef): Promise<ModelVersion> {
  if ("alias" in ref) return (await client.getModelVersionByAlias(ref)).model_version;
  if ("version" in ref) return (await client.getModelVersion(ref)).model_version;
  const found = (await client.getLatestVersions({ name: ref.name, stages: [ref.stage] })).model_versions?.[0];
  if (!found) {
    throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No version of model '${ref.name}' is in stage ${ref.stage}`);
  }
  return found;
}

async function lineageOf(client: TrackingClient, ref: ModelRef): Promise<Lineage> {
  const mv = await resolveVersion(client, ref);
  const { artifact_uri } = await client.getModelVersionDownloadUri({ name: mv.name, version: mv.version });
  let runId: string | undefined = mv.run_id;
  if (!runId) {
    try {
      runId = runIdOfSource(mv.source);
    } catch {
      runId = undefined;
    }
  }
  let run: Run | null = null;
  if (runId) {
    try {
      run = (await client.getRun({ run_id: runId })).run;
    } catch (error) {
      // a version outlives the garbage collection of its run
      if (!isCode(error, "RESOURCE_DOES_NOT_EXIST")) throw error;
    }
  }
  return {
    model_version: mv,
    artifact_uri,
    run_id: runId ?? null,
    run,
    datasets: run?.inputs?.dataset_inputs ?? [],
  };
}

function datasetContext(input: DatasetInput): string {
  return input.tags?.find((t) => t.key === "mlflow.data.context")?.value ?? "";
}

function lineageText(ref: ModelRef, l: Lineage): string {
  const mv = l.model_version;
  const chain = [`${refText(ref)}`];
  if (!("version" in ref)) chain.push(`v${mv.version}`);
  chain.push(mv.source);
  if (l.run_id) chain.push(l.run ? `run ${l.run_id} (${l.run.info.run_name})` : `run ${l.run_id} (not found)`);
  if (l.datasets.length > 0)
    chain.push(l.datasets.map((d) => `dataset ${d.dataset.name}@${d.dataset.digest}`).join(", "));
  const lines = [
    `Lineage: ${chain.join(" → ")}`,
    "",
    `Model version ${mv.name} v${mv.version}`,
    `  aliases: ${(mv.aliases ?? []).join(", ") || "-"}   stage: ${mv.current_stage}   status: ${mv.status}`,
    `  created: ${formatTime(mv.creation_timestamp)}${mv.description ? `   description: ${oneLine(mv.description)}` : ""}`,
    `  source: ${mv.source}`,
    `  artifacts: ${l.artifact_uri}`,
  ];
  if (!l.run_id) {
    lines.push("", "No run: the version was registered without a run id.");
    return lines.join("\n");
  }
  if (!l.run) {
    lines.push("", `Run ${l.run_id} not found (deleted and garbage-collected?).`);
    return lines.join("\n");
  }
  const i = l.run.info;
  lines.push(
    "",
    `Run ${i.run_id} (${i.run_name})`,
    `  experiment: ${i.experiment_id}   status: ${i.status}   started: ${formatTime(i.start_time)}   ended: ${formatTime(i.end_time) || "-"}`,
    "",
    table(
      ["PARAM", "VALUE"],
      (l.run.data.params ?? []).map((p) => [p.key, p.value]),
    ),
    "",
    table(
      ["METRIC", "VALUE", "STEP"],
      (l.run.data.metrics ?? []).map((m) => [m.key, m.value, m.step ?? 0]),
    ),
    "",
  );
  lines.push(
    l.datasets.length === 0
      ? "No datasets logged for the run."
      : table(
          ["DATASET", "DIGEST", "CONTEXT", "SOURCE TYPE", "SOURCE"],
          l.datasets.map((d) => [
            d.dataset.name,
            d.dataset.digest,
            datasetContext(d),
            d.dataset.source_type,
            d.dataset.source,
          ]),
        ),
  );
  return lines.join("\n");
}

async function describeAction(spec: string, flags: JsonFlags): Promise<void> {
  const ref = parseModelRef(spec);
  const lineage = await lineageOf(clientFor(flags), ref);
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(lineage) : lineageText(ref, lineage));
}

async function downloadAction(uri: string, flags: ClientFlags & { dst?: string; cacheDir?: string }): Promise<void> {
  const loaded = await loadModelPackage(clientFor(flags), uri, flags.cacheDir ? { cacheDir: flags.cacheDir } : {});
  let dir = loaded.dir;
  if (flags.dst !== undefined) {
    dir = resolve(flags.dst);
    await cp(loaded.dir, dir, { recursive: true });
  }
  const out = stdoutOutput(flags.json === true);
  const flavors = Object.keys(loaded.mlmodel.flavors);
  if (out.json) out.write(JSON.stringify({ uri, dir, digest: loaded.digest, cache_hit: loaded.cacheHit, flavors }));
  else
    out.write(
      `${uri} → ${dir}\n  digest ${loaded.digest}${loaded.cacheHit ? " (from the cache, verified)" : ""}\n  flavors ${flavors.join(", ")}`,
    );
}

// ---------------------------------------------------------------------------------------------

function common(cmd: Command): Command {
  return cmd.option("--tracking-uri <uri>", TRACKING_URI_HELP).option("--json", "machine-readable output");
}

export function registerModels(program: Command): void {
  const models = program
    .command("models")
    .description("The model registry: registered models, versions, aliases and their history");

  common(
    models
      .command("list")
      .description("List registered models")
      .option("--filter <filter>", "MLflow filter, e.g. \"name LIKE 'churn%'\"")
      .option("--max-results <n>", "at most this many", "1000"),
  ).action(listAction);

  common(
    models.command("versions").description("List the versions of a model, newest first").argument("<name>", "model"),
  ).action(versionsAction);

  common(
    models
      .command("register")
      .description("Register a new version of a model (the model is created if missing)")
      .argument("<source>", "runs:/<run_id>/<path>, or the URI of the model's artifacts")
      .argument("<name>", "registered model name")
      .option("--run-id <id>", "the run that produced it (taken from a runs:/ source when not given)")
      .option("--description <text>", "version description"),
  ).action(registerAction);

  common(
    models
      .command("alias")
      .description("Point an alias at a version (or --delete it); the move is recorded in the alias history")
      .argument("<name>", "registered model name")
      .argument("<alias>", "alias, e.g. champion")
      .argument("[version]", "version number (3 or v3)")
      .option("--reason <text>", "why, recorded with the change")
      .option("--delete", "delete the alias instead"),
  ).action(aliasAction);

  common(
    models
      .command("history")
      .description("Every alias move and stage transition of a model, newest first")
      .argument("<name>", "registered model name")
      .option("--alias <alias>", "only this alias (or stage)")
      .option(
        "--at <time>",
        "also show where each alias and stage pointed then (ISO 8601, UTC unless an offset is given)",
      ),
  ).action(historyAction);

  common(
    models
      .command("describe")
      .description("Show a version's lineage: source, run (params, metrics) and the run's datasets")
      .argument("<model>", "NAME@ALIAS, NAME/VERSION or NAME/STAGE (models:/ prefix optional)"),
  ).action(describeAction);

  common(
    models
      .command("download")
      .description("Download a model package into the verified local cache (and copy it to --dst)")
      .argument("<uri>", "models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/STAGE or runs:/RUN_ID/PATH")
      .option("--dst <dir>", "also copy the package to this directory")
      .option("--cache-dir <dir>", "cache directory (env SLIPWAY_MODEL_CACHE; default ~/.cache/slipway/models)"),
  ).action(downloadAction);

  registerGenerateDockerfile(models);
}
