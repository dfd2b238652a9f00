/**
 * The cache key of a step: sha256 over the pipeline and step names, the step function's source text, the
 * parameters the step depends on (all of the pipeline's unless `cache.params` says otherwise), its input
 * values and `cache.version`, serialised canonically so that key order in objects does not matter.
 *
 * The source text covers edits to the step's own function, not to helpers it calls from elsewhere: bump
 * `cache.version` for those.
 */
import { createHash } from "node:crypto";
import type { PipelineParams, PipelineStep } from "./definition.js";
import { canonicalJson, type JsonValue } from "./json-value.js";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** sha256 of a step function's source text: what a worker checks its own copy of the step against. */
export function codeDigest(step: Pick<PipelineStep, "run">): string {
  return sha256(step.run.toString());
}

export interface CacheKeyInput {
  readonly pipeline: string;
  readonly step: PipelineStep;
  readonly params: PipelineParams;
  readonly inputs: Readonly<Record<string, JsonValue>>;
}

/** The step's cache key, or undefined when the step does not cache. */
export function stepCacheKey({ pipeline, step, params, inputs }: CacheKeyInput): string | undefined {
  if (step.cache === false) return undefined;
  const names = step.cache.params ?? Object.keys(params);
  const used: Record<string, JsonValue> = {};
  for (const name of names) if (Object.hasOwn(params, name)) used[name] = params[name]!;
  return sha256(
    canonicalJson({
      v: 1,
      pipeline,
      step: step.name,
      code: step.run.toString(),
      version: step.cache.version,
      params: used,
      inputs: inputs as JsonValue,
    }),
  );
}
