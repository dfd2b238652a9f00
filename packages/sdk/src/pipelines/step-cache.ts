/**
 * The step cache lives in the tracking server: a step run that finished records its cache key as a tag
 * and its outputs as `outputs.json`, so finding a reusable result is a run search in the pipeline's
 * experiment (newest first) for a FINISHED run of the same pipeline and step with the same key. The
 * search filter does the work on a Slipway or MLflow server; the tags are checked again here, so a
 * server that ignores part of a filter cannot hand back someone else's outputs.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJson, type Run } from "@slipway/protocol";
import type { TrackingClient } from "../client.js";
import { findNonJson, type JsonValue } from "./json-value.js";
import { OUTPUTS_ARTIFACT, PIPELINE_TAGS } from "./tags.js";

export interface CachedStep {
  readonly runId: string;
  readonly outputs: JsonValue;
}

export function tagOf(run: Run, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

/** Reads a run's `outputs.json`; undefined when it has none (or not JSON). */
export async function readOutputs(client: TrackingClient, artifactUri: string): Promise<JsonValue | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-outputs-"));
  try {
    const local = join(dir, OUTPUTS_ARTIFACT);
    await client.artifacts.repository(artifactUri).getFile(OUTPUTS_ARTIFACT, local);
    const value = parseJson(await readFile(local, "utf8"));
    return findNonJson(value, "outputs") === undefined ? (value as JsonValue) : undefined;
  } catch {
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CacheLookup {
  readonly experimentId: string;
  readonly pipeline: string;
  readonly step: string;
  readonly cacheKey: string;
  /** Runs not to reuse (the current pipeline run's own step runs). */
  readonly exclude?: ReadonlySet<string>;
}

/** The newest reusable result for `cacheKey`, or undefined. At most `maxCandidates` runs are looked at. */
export async function findCachedStep(
  client: TrackingClient,
  lookup: CacheLookup,
  maxCandidates = 20,
): Promise<CachedStep | undefined> {
  const filter =
    `tags.\`${PIPELINE_TAGS.cacheKey}\` = '${lookup.cacheKey}' and attributes.status = 'FINISHED'` +
    ` and tags.\`${PIPELINE_TAGS.step}\` = '${lookup.step}'`;
  let seen = 0;
  for await (const run of client.searchAllRuns({
    experiment_ids: [lookup.experimentId],
    filter,
    order_by: ["attributes.start_time DESC"],
    max_results: maxCandidates,
  })) {
    if (++seen > maxCandidates * 10) break;
    if (lookup.exclude?.has(run.info.run_id)) continue;
    if (run.info.status !== "FINISHED") continue;
    if (tagOf(run, PIPELINE_TAGS.cacheKey) !== lookup.cacheKey) continue;
    if (tagOf(run, PIPELINE_TAGS.step) !== lookup.step || tagOf(run, PIPELINE_TAGS.pipeline) !== lookup.pipeline)
      continue;
    const outputs = await readOutputs(client, run.info.artifact_uri);
    if (outputs !== undefined) return { runId: run.info.run_id, outputs };
  }
  return undefined;
}
