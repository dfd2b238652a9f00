/**
 * Model URIs: one resolver for every way a model is named.
 *
 * - `runs:/<run_id>/<path>`: a package logged to a run (the path may be empty: the run's artifact root);
 * - `models:/<name>/<version>`: a registered model version;
 * - `models:/<name>@<alias>`: the version an alias points at;
 * - `models:/<name>/<stage>`: the latest version in a stage (`None`, `Staging`, `Production`, `Archived`,
 *   any case), and `models:/<name>/latest`: the latest version of all;
 * - a plain path or a `file:` URI: a package on the local disk;
 * - `mlflow-artifacts:/...`: a package in the tracking server's artifact store.
 *
 * `resolveModelUri(client, uri)` turns any of them into the artifact URI the package is downloaded from,
 * plus the model version for `models:/` URIs.
 */
import { isAbsolute, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { MODEL_VERSION_STAGES, MlflowError, type ModelVersion, type ModelVersionStage } from "@slipway/protocol";
import { normalizeArtifactPath } from "./artifact-repository.js";
import type { TrackingClient } from "./client.js";

/** A malformed model URI (`INVALID_PARAMETER_VALUE`), with the URI it was about. */
export class ModelUriError extends MlflowError {
  readonly uri: string;

  constructor(uri: string, problem: string) {
    super("INVALID_PARAMETER_VALUE", `Invalid model URI '${uri}': ${problem}`);
    this.name = "ModelUriError";
    this.uri = uri;
  }
}

export type ParsedModelUri =
  | { form: "run"; runId: string; path: string }
  | { form: "version"; name: string; version: string }
  | { form: "alias"; name: string; alias: string }
  | { form: "stage"; name: string; stage: ModelVersionStage }
  | { form: "latest"; name: string }
  | { form: "local"; path: string }
  | { form: "artifact"; artifactUri: string };

export interface ResolvedModelUri {
  /** The URI as given. */
  uri: string;
  kind: "runs" | "models" | "local" | "artifact";
  /** Where the package's files are: `mlflow-artifacts:/...`, a local path, or what the registry answered. */
  artifactUri: string;
  /** The run it was logged to, when known (`runs:/` URIs, and versions registered from a run). */
  runId?: string;
  /** For `models:/` URIs: the version the URI resolved to. */
  modelVersion?: ModelVersion;
}

const STAGES = new Map<string, ModelVersionStage>(MODEL_VERSION_STAGES.map((s) => [s.toLowerCase(), s]));
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const FORMS = "models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>";

/** Parses a model URI without contacting the server. Throws `ModelUriError` for malformed URIs. */
export function parseModelUri(uri: string, options: { cwd?: string } = {}): ParsedModelUri {
  if (typeof uri !== "string" || uri.trim() === "") {
    throw new ModelUriError(String(uri), `a model URI is required (runs:/<run_id>/<path>, ${FORMS}, or a local path)`);
  }
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  // one letter is a Windows drive (C:\models\x), so a plain path
  if (scheme === undefined || scheme.length === 1) return { form: "local", path: resolvePath(options.cwd ?? ".", uri) };
  switch (scheme) {
    case "runs":
      return parseRunsUri(uri);
    case "models":
      return parseModelsUri(uri);
    case "file": {
      let path: string;
      try {
        path = fileURLToPath(uri);
      } catch (error) {
        throw new ModelUriError(uri, `not a local file URI (${(error as Error).message})`);
      }
      return { form: "local", path };
    }
    case "mlflow-artifacts":
      return { form: "artifact", artifactUri: uri };
    default:
      throw new ModelUriError(
        uri,
        `the scheme '${scheme}:' is not supported; use runs:/<run_id>/<path>, ${FORMS}, mlflow-artifacts:/..., file: or a local path`,
      );
  }
}

function parseRunsUri(uri: string): ParsedModelUri {
  const rest = uri.slice("runs:".length);
  const m = /^\/([^/]+)(?:\/(.*))?$/s.exec(rest);
  if (!m || rest.startsWith("//")) {
    throw new ModelUriError(uri, "a runs URI is runs:/<run_id>/<path> (one slash after 'runs:', then the run id)");
  }
  const runId = m[1]!;
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) {
    throw new ModelUriError(uri, `'${runId}' is not a run id (letters, digits, '-' and '_')`);
  }
  let path: string;
  try {
    path = normalizeArtifactPath(m[2] ?? "");
  } catch {
    throw new ModelUriError(uri, "the artifact path must stay inside the run ('..' is not allowed)");
  }
  return { form: "run", runId, path };
}

function parseModelsUri(uri: string): ParsedModelUri {
  const rest = uri.slice("models:".length);
  if (rest.startsWith("//")) {
    throw new ModelUriError(uri, `registry profiles (models://<profile>/...) are not supported; use ${FORMS}`);
  }
  if (!rest.startsWith("/") || rest.length === 1) throw new ModelUriError(uri, `a models URI is ${FORMS}`);
  const parts = rest.slice(1).split("/");
  const name = parts[0]!;
  if (parts.length > 2) {
    throw new ModelUriError(uri, `too many parts after the model name; a models URI is ${FORMS}`);
  }
  if (parts.length === 2) {
    const suffix = parts[1]!;
    if (name.trim() === "") throw new ModelUriError(uri, "the model name is empty");
    if (name.includes("@")) {
      throw new ModelUriError(uri, "give either an alias (models:/<name>@<alias>) or a version or stage, not both");
    }
    if (suffix.trim() === "") {
      throw new ModelUriError(uri, `nothing after the model name; a models URI is ${FORMS}`);
    }
    if (/^\d+$/.test(suffix)) return { form: "version", name, version: suffix };
    if (suffix.toLowerCase() === "latest") return { form: "latest", name };
    const stage = STAGES.get(suffix.toLowerCase());
    if (stage) return { form: "stage", name, stage };
    throw new ModelUriError(
      uri,
      `'${suffix}' is neither a version number, 'latest', nor a stage (${MODEL_VERSION_STAGES.join(", ")})`,
    );
  }
  const at = name.lastIndexOf("@");
  if (at === -1) {
    throw new ModelUriError(uri, `it names a model but no version; use ${FORMS}`);
  }
  const model = name.slice(0, at);
  const alias = name.slice(at + 1);
  if (model.trim() === "") throw new ModelUriError(uri, "the model name before '@' is empty");
  if (alias.trim() === "") throw new ModelUriError(uri, "the alias after '@' is empty");
  return { form: "alias", name: model, alias };
}

/** `models:/name/3`, `runs:/id/path`... back as text (for messages and registry sources). */
export function formatModelUri(parsed: ParsedModelUri): string {
  switch (parsed.form) {
    case "run":
      return `runs:/${parsed.runId}${parsed.path === "" ? "" : `/${parsed.path}`}`;
    case "version":
      return `models:/${parsed.name}/${parsed.version}`;
    case "alias":
      return `models:/${parsed.name}@${parsed.alias}`;
    case "stage":
      return `models:/${parsed.name}/${parsed.stage}`;
    case "latest":
      return `models:/${parsed.name}/latest`;
    case "local":
      return parsed.path;
    case "artifact":
      return parsed.artifactUri;
  }
}

function joinUri(base: string, path: string): string {
  const root = base.replace(/\/+$/, "");
  return path === "" ? root : `${root}/${path}`;
}

/** Re-throws a server error with the URI it was resolving in front, keeping its code and status. */
function withUri(uri: string, error: unknown): never {
  if (error instanceof MlflowError && !(error instanceof ModelUriError)) {
    throw new MlflowError(error.code, `Cannot resolve model URI '${uri}': ${error.message}`, {
      cause: error,
      status: error.status,
    });
  }
  throw error;
}

/** The version a `models:/` URI names (by number, alias, stage or latest). */
async function findVersion(client: TrackingClient, parsed: ParsedModelUri & { name: string }): Promise<ModelVersion> {
  switch (parsed.form) {
    case "version":
      return (await client.getModelVersion({ name: parsed.name, version: parsed.version })).model_version;
    case "alias":
      return (await client.getModelVersionByAlias({ name: parsed.name, alias: parsed.alias })).model_version;
    case "stage": {
      const { model_versions } = await client.getLatestVersions({ name: parsed.name, stages: [parsed.stage] });
      const found = model_versions?.[0];
      if (!found) {
        throw new MlflowError(
          "RESOURCE_DOES_NOT_EXIST",
          `No version of registered model '${parsed.name}' is in stage '${parsed.stage}'`,
        );
      }
      return found;
    }
    case "latest": {
      const { model_versions } = await client.getLatestVersions({ name: parsed.name });
      const latest = (model_versions ?? []).reduce<ModelVersion | undefined>(
        (best, v) => (best === undefined || Number(v.version) > Number(best.version) ? v : best),
        undefined,
      );
      if (!latest)
        throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Registered model '${parsed.name}' has no versions`);
      return latest;
    }
    default:
      throw new TypeError(`not a models URI form: ${parsed.form}`);
  }
}

/**
 * Resolves a model URI to the artifact URI of its package, asking the server where needed
 * (`getRun`, `getModelVersion`, `getModelVersionByAlias`, `getLatestVersions`,
 * `getModelVersionDownloadUri`). Malformed URIs throw `ModelUriError`; a run, model, version or alias
 * that does not exist throws the server's error, prefixed with the URI.
 */
export async function resolveModelUri(
  client: TrackingClient,
  uri: string,
  options: { cwd?: string } = {},
): Promise<ResolvedModelUri> {
  return resolveParsed(client, uri, parseModelUri(uri, options), 0);
}

async function resolveParsed(
  client: TrackingClient,
  uri: string,
  parsed: ParsedModelUri,
  depth: number,
): Promise<ResolvedModelUri> {
  switch (parsed.form) {
    case "local":
      return { uri, kind: "local", artifactUri: parsed.path };
    case "artifact":
      return { uri, kind: "artifact", artifactUri: parsed.artifactUri };
    case "run": {
      let artifactRoot: string;
      try {
        artifactRoot = (await client.getRun({ run_id: parsed.runId })).run.info.artifact_uri;
      } catch (error) {
        withUri(uri, error);
      }
      return { uri, kind: "runs", artifactUri: joinUri(artifactRoot, parsed.path), runId: parsed.runId };
    }
    default: {
      let modelVersion: ModelVersion;
      let location: string;
      try {
        modelVersion = await findVersion(client, parsed);
        location = (await client.getModelVersionDownloadUri({ name: modelVersion.name, version: modelVersion.version }))
          .artifact_uri;
      } catch (error) {
        withUri(uri, error);
      }
      let artifactUri = location;
      let runId = modelVersion.run_id || undefined;
      // a registry that stored a runs:/ or models:/ source as it was: resolve that too
      const inner = SCHEME.exec(location)?.[1]?.toLowerCase();
      if (inner === "runs" || inner === "models") {
        if (depth >= 3) throw new ModelUriError(uri, `its source '${location}' refers to other model URIs too deeply`);
        const target = await resolveParsed(client, location, parseModelUri(location), depth + 1);
        artifactUri = target.artifactUri;
        runId ??= target.runId;
      } else if (!SCHEME.exec(location) && !isAbsolute(location)) {
        throw new MlflowError(
          "INVALID_STATE",
          `Cannot resolve model URI '${uri}': the registry answered a relative download location '${location}'`,
        );
      }
      return { uri, kind: "models", artifactUri, ...(runId === undefined ? {} : { runId }), modelVersion };
    }
  }
}
