/**
 * Checking what a client asks for before anything is stored: the body against protocol's schema (the bad field is
 * named), the deployment's name, the model URIs (parsed, then resolved through the registry: an unknown model, alias
 * or version is refused naming the field), and the rules between them — a canary is a version of the primary's
 * registered model, promoted by moving the primary's alias, so the primary must follow an alias; the canary, the
 * shadow and the primary are three different versions; one alias has at most one running canary.
 */
import {
  DEPLOYMENT_LIMITS,
  MlflowError,
  invalidParameter,
  notFound,
  parseDeploymentModelUri,
  type CanaryInput,
  type DeploymentModelRef,
  type ShadowInput,
} from "@slipway/protocol";
import type { RegistryService } from "../registry/registry-service.js";
import type { CanarySettings, ShadowSettings } from "./deployment-store.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkDeploymentName(name: string): string {
  if (!NAME.test(name)) {
    throw invalidParameter(
      `Invalid value '${name}' for parameter 'name': a deployment name is letters, digits, '.', '_' and '-', starting with a letter or digit.`,
    );
  }
  return name;
}

/** A model reference resolved to the version it points at now. */
export interface ResolvedRef {
  uri: string;
  ref: DeploymentModelRef;
  version: string;
}

function parseRef(uri: string, field: string): DeploymentModelRef {
  const parsed = parseDeploymentModelUri(uri);
  if ("problem" in parsed) throw invalidParameter(`Invalid value for parameter '${field}': ${parsed.problem}.`);
  return parsed;
}

/** Resolves `uri` through the registry; an unknown model, alias or version is a 404 naming `field`. */
export async function resolveRef(registry: RegistryService, uri: string, field: string): Promise<ResolvedRef> {
  const ref = parseRef(uri, field);
  let aliases: { alias: string; version: string }[];
  try {
    aliases = (await registry.getRegisteredModel({ name: ref.name })).registered_model.aliases ?? [];
  } catch (error) {
    if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") {
      throw notFound(`${field} '${uri}': there is no registered model '${ref.name}'.`);
    }
    throw error;
  }
  if ("alias" in ref) {
    const found = aliases.find((a) => a.alias === ref.alias);
    if (!found) {
      const known = aliases.map((a) => `${a.alias} → v${a.version}`).join(", ");
      throw notFound(
        `${field} '${uri}': the registered model '${ref.name}' has no alias '${ref.alias}'${known === "" ? " (it has no aliases)" : ` (its aliases: ${known})`}.`,
      );
    }
    return { uri, ref, version: found.version };
  }
  try {
    await registry.getModelVersion({ name: ref.name, version: ref.version });
  } catch (error) {
    if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") {
      throw notFound(`${field} '${uri}': the registered model '${ref.name}' has no version ${ref.version}.`);
    }
    throw error;
  }
  return { uri, ref, version: ref.version };
}

/** The canary's settings with their defaults. */
export function canarySettings(input: CanaryInput): CanarySettings {
  return {
    model_uri: input.model_uri,
    initial_weight: input.weight,
    step: input.step ?? DEPLOYMENT_LIMITS.defaultStep,
    interval_ms: input.interval_ms ?? DEPLOYMENT_LIMITS.defaultIntervalMs,
    max_error_rate: input.max_error_rate ?? DEPLOYMENT_LIMITS.defaultMaxErrorRate,
    ...(input.max_latency_p99_ms === undefined ? {} : { max_latency_p99_ms: input.max_latency_p99_ms }),
    min_requests: input.min_requests ?? DEPLOYMENT_LIMITS.defaultMinRequests,
  };
}

export function shadowSettings(input: ShadowInput): ShadowSettings {
  return { model_uri: input.model_uri, max_queue: input.max_queue ?? DEPLOYMENT_LIMITS.defaultShadowQueue };
}

/** The primary as a deployment follows it. */
export interface Primary {
  name: string;
  alias?: string;
  version: string;
}

/** Resolves and checks a canary against the primary (and the shadow's version, when there is one). */
export async function resolveCanary(
  registry: RegistryService,
  input: CanaryInput,
  primary: Primary,
  field = "canary",
): Promise<ResolvedRef> {
  const uri = `${field}.model_uri`;
  const ref = parseRef(input.model_uri, uri);
  if (ref.name !== primary.name) {
    throw invalidParameter(
      `Invalid value for parameter '${uri}': '${input.model_uri}' is not a version of '${primary.name}'; a canary is promoted by moving the primary's alias, so it must be a version of the same registered model.`,
    );
  }
  if (primary.alias === undefined) {
    throw invalidParameter(
      `A canary needs a primary that follows an alias (models:/${primary.name}@ALIAS): it is promoted by moving that alias, and the primary is pinned to version ${primary.version}.`,
    );
  }
  const resolved = await resolveRef(registry, input.model_uri, uri);
  if (resolved.version === primary.version) {
    throw invalidParameter(
      `Invalid value for parameter '${uri}': '${input.model_uri}' is version ${resolved.version}, which the primary (models:/${primary.name}@${primary.alias}) serves already; there is nothing to roll out.`,
    );
  }
  return resolved;
}

/** Resolves and checks a shadow against the primary and the canary. */
export async function resolveShadow(
  registry: RegistryService,
  input: ShadowInput,
  primary: Primary,
  canary: { name: string; version: string } | undefined,
  field = "shadow",
): Promise<ResolvedRef> {
  const uri = `${field}.model_uri`;
  const resolved = await resolveRef(registry, input.model_uri, uri);
  if (resolved.ref.name === primary.name && resolved.version === primary.version) {
    throw invalidParameter(
      `Invalid value for parameter '${uri}': '${input.model_uri}' is version ${resolved.version}, which the primary serves; a shadow must be another version.`,
    );
  }
  if (canary && resolved.ref.name === canary.name && resolved.version === canary.version) {
    throw invalidParameter(
      `The canary and the shadow are both version ${canary.version} of '${canary.name}': a version is either routed to (canary) or mirrored (shadow), not both.`,
    );
  }
  return resolved;
}
