/**
 * Defining a pipeline: named steps, each a function of the outputs of the steps it needs, with retries,
 * a timeout and optional caching; parameters with defaults; and what starts it besides a person (cron
 * schedules, monitor alerts, registry events). Everything is checked here, once, with messages that name
 * the pipeline and the step, so a bad definition fails when the file is loaded and not halfway through a
 * run.
 *
 * ```ts
 * export const retrain = definePipeline({
 *   name: "retrain",
 *   params: { C: 10 },
 *   schedule: "0 3 * * *",
 *   steps: {
 *     prepare: step({ cache: true, run: async (ctx) => ({ rows: 1000 }) }),
 *     train: step({ needs: ["prepare"], retries: 2, timeoutMs: 600_000, run: async (ctx, { prepare }) => ... }),
 *   },
 * });
 * ```
 */
import { REGISTRY_EVENT_KINDS } from "@slipway/protocol";
import { checkKey, type ActiveRun } from "../run.js";
import { topologicalOrder } from "./dag.js";
import { errorText, PipelineDefinitionError, PipelineParamError } from "./errors.js";
import type { AlertTriggerSpec, PipelineTrigger, PipelineTriggers, RegistryTriggerSpec } from "./trigger.js";

export type PipelineParamValue = string | number | boolean;
export type PipelineParams = Readonly<Record<string, PipelineParamValue>>;

/** What a step's function is given besides its inputs. */
export interface StepContext {
  readonly pipeline: string;
  readonly step: string;
  /** The pipeline run (the parent run of this step's run). */
  readonly pipelineRunId: string;
  /** The pipeline's parameters: its defaults with the run's overrides. */
  readonly params: PipelineParams;
  /** Why the pipeline run started. */
  readonly trigger: PipelineTrigger;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Aborted when the attempt times out or the run is cancelled. Pass it to whatever can stop early
   * (`fetch`, streams, loops that check `signal.aborted`); a step that ignores it is abandoned.
   */
  readonly signal: AbortSignal;
  /** The step's own tracked run (a child of the pipeline run): log params, metrics and artifacts here. */
  readonly run: ActiveRun;
  /** A line in the step's `step.log` (formatted like `console.log`). */
  log(...values: unknown[]): void;
}

export type StepFunction<I, O> = (ctx: StepContext, inputs: I) => O | Promise<O>;

export interface StepCacheOptions {
  /** Only these parameters are part of the cache key (default: all of the pipeline's). */
  readonly params?: readonly string[];
  /** Change it to invalidate the cache when code the step calls (not its own text) changed. */
  readonly version?: string;
}

export interface StepOptions<I, O> {
  /** The steps whose outputs this one takes as inputs (`inputs.<name>`). */
  readonly needs?: readonly string[];
  /** Further attempts after a failure. Default 0. */
  readonly retries?: number;
  /** The wait before the first retry; it doubles for each further one. Default 1000 ms. */
  readonly backoffMs?: number;
  /** The longest wait between attempts. Default 60 000 ms. */
  readonly maxBackoffMs?: number;
  /** Per attempt. Default: none. */
  readonly timeoutMs?: number;
  /**
   * Reuse the outputs of an earlier successful run of this step when its code, inputs and parameters are
   * the same. Default false: a step with effects outside its run (registering a model) must run each time.
   */
  readonly cache?: boolean | StepCacheOptions;
  readonly description?: string;
  readonly run: StepFunction<I, O>;
}

/** A checked step, as `definePipeline` keeps it. */
export interface PipelineStep {
  readonly name: string;
  readonly needs: readonly string[];
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly timeoutMs: number | undefined;
  readonly cache: false | { readonly params: readonly string[] | undefined; readonly version: string };
  readonly description: string | undefined;
  readonly run: StepFunction<Record<string, unknown>, unknown>;
}

export interface PipelineOptions {
  /** Letters, digits, `_`, `-` and `.`; used in the experiment name, queue job ids and Redis keys. */
  readonly name: string;
  readonly description?: string;
  /** Parameters and their defaults; a run may override them (`--param C=20`) with values of the same type. */
  readonly params?: Record<string, PipelineParamValue>;
  /** The steps by name, in the order they are listed when nothing else decides. */
  readonly steps: Record<string, StepOptions<never, unknown>>;
  /** The experiment of its runs. Default `pipelines/<name>`. */
  readonly experiment?: string;
  /** Steps running at once. Default 4. */
  readonly parallelism?: number;
  /** Cron schedules (5 fields, UTC), run by `slipway pipeline scheduler`. */
  readonly schedule?: string | readonly string[];
  /** Alerts and registry events that start a run (also `slipway pipeline scheduler`). */
  readonly on?: PipelineTriggers;
}

export const PIPELINE_BRAND: unique symbol = Symbol.for("slipway.pipeline") as never;

export interface Pipeline {
  /** Marks a pipeline across copies of this package (a pipelines file may import its own). */
  readonly [PIPELINE_BRAND]: 1;
  readonly name: string;
  readonly description: string | undefined;
  readonly params: PipelineParams;
  readonly steps: Readonly<Record<string, PipelineStep>>;
  /** Step names, each after the steps it needs. */
  readonly order: readonly string[];
  readonly experiment: string;
  readonly parallelism: number;
  readonly schedules: readonly string[];
  readonly triggers: { readonly alert: readonly AlertTriggerSpec[]; readonly registry: readonly RegistryTriggerSpec[] };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const NAME_RULE = "1-100 letters, digits, '_', '-' or '.', starting with a letter or digit";

/**
 * A step. Only a typing aid: `definePipeline` checks it. Declare the inputs' type on `run`'s second
 * parameter (`run: async (ctx, inputs: { prepare: Prepared }) => ...`); they are the outputs of `needs`.
 */
export function step<I = Record<string, unknown>, O = unknown>(options: StepOptions<I, O>): StepOptions<I, O> {
  return options;
}

export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PIPELINE_BRAND] === 1;
}

function plainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as a message shows it. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

function wholeNumber(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function checkStep(where: string, name: string, raw: unknown, params: PipelineParams): PipelineStep {
  const fail = (why: string) => new PipelineDefinitionError(`${where}, step '${name}': ${why}`);
  if (!NAME.test(name)) throw fail(`a step name must be ${NAME_RULE}`);
  if (!plainObject(raw)) throw fail("expected step({ run, ... }), an object with a run function");
  const known = new Set(["needs", "retries", "backoffMs", "maxBackoffMs", "timeoutMs", "cache", "description", "run"]);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw fail(
      `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} (known: ${[...known].join(", ")})`,
    );
  }
  if (typeof raw.run !== "function") throw fail("'run' must be a function (ctx, inputs) => outputs");
  const needs = raw.needs ?? [];
  if (!Array.isArray(needs) || !needs.every((n) => typeof n === "string")) {
    throw fail("'needs' must be a list of step names");
  }
  const retries = raw.retries ?? 0;
  if (!wholeNumber(retries, 0)) throw fail(`'retries' must be a whole number ≥ 0, got ${show(retries)}`);
  const backoffMs = raw.backoffMs ?? 1000;
  if (!wholeNumber(backoffMs, 0)) throw fail(`'backoffMs' must be a whole number ≥ 0, got ${show(backoffMs)}`);
  const maxBackoffMs = raw.maxBackoffMs ?? 60_000;
  if (!wholeNumber(maxBackoffMs, 0)) {
    throw fail(`'maxBackoffMs' must be a whole number ≥ 0, got ${show(maxBackoffMs)}`);
  }
  const timeoutMs = raw.timeoutMs;
  if (timeoutMs !== undefined && !wholeNumber(timeoutMs, 1)) {
    throw fail(`'timeoutMs' must be a whole number ≥ 1, got ${show(timeoutMs)}`);
  }
  if (raw.description !== undefined && typeof raw.description !== "string")
    throw fail("'description' must be a string");
  let cache: PipelineStep["cache"] = false;
  if (raw.cache === true) cache = { params: undefined, version: "" };
  else if (plainObject(raw.cache)) {
    const { params: only, version, ...rest } = raw.cache;
    if (Object.keys(rest).length > 0)
      throw fail(`'cache' takes 'params' and 'version', not ${Object.keys(rest).join(", ")}`);
    if (only !== undefined) {
      if (!Array.isArray(only) || !only.every((p) => typeof p === "string")) {
        throw fail("'cache.params' must be a list of parameter names");
      }
      const missing = only.filter((p) => !Object.hasOwn(params, p));
      if (missing.length > 0) {
        throw fail(`'cache.params' names ${missing.map((p) => `'${p}'`).join(", ")}, not parameters of the pipeline`);
      }
    }
    if (version !== undefined && typeof version !== "string") throw fail("'cache.version' must be a string");
    cache = { params: only, version: version ?? "" };
  } else if (raw.cache !== undefined && raw.cache !== false) {
    throw fail("'cache' must be true, false or { params?, version? }");
  }
  return Object.freeze({
    name,
    needs: Object.freeze([...needs]),
    retries,
    backoffMs,
    maxBackoffMs,
    timeoutMs,
    cache,
    description: raw.description,
    run: raw.run as PipelineStep["run"],
  });
}

function checkParams(where: string, raw: unknown): PipelineParams {
  if (raw === undefined) return Object.freeze({});
  if (!plainObject(raw)) throw new PipelineDefinitionError(`${where}: 'params' must be an object of defaults`);
  for (const [key, value] of Object.entries(raw)) {
    try {
      checkKey("param", key);
    } catch (error) {
      throw new PipelineDefinitionError(`${where}: ${errorText(error)}`);
    }
    const ok =
      typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!ok) {
      throw new PipelineDefinitionError(
        `${where}: param '${key}' must default to a string, a finite number or a boolean, got ${JSON.stringify(value) ?? String(value)}`,
      );
    }
  }
  return Object.freeze({ ...(raw as Record<string, PipelineParamValue>) });
}

function checkTriggers(where: string, raw: unknown): Pipeline["triggers"] {
  if (raw === undefined) return { alert: [], registry: [] };
  if (!plainObject(raw)) throw new PipelineDefinitionError(`${where}: 'on' must be { alert?, registry? }`);
  const extra = Object.keys(raw).filter((k) => k !== "alert" && k !== "registry");
  if (extra.length > 0) {
    throw new PipelineDefinitionError(`${where}: 'on' takes 'alert' and 'registry', not ${extra.join(", ")}`);
  }
  const alert = list(raw.alert as AlertTriggerSpec | AlertTriggerSpec[] | undefined).map((a, i) => {
    const at = `${where}: on.alert${Array.isArray(raw.alert) ? `[${i}]` : ""}`;
    if (!plainObject(a) || typeof a.monitor !== "string" || a.monitor === "") {
      throw new PipelineDefinitionError(`${at} needs 'monitor', a monitor's name`);
    }
    if (a.rule !== undefined && (typeof a.rule !== "string" || a.rule === "")) {
      throw new PipelineDefinitionError(`${at}: 'rule' must be an alert rule's name`);
    }
    return Object.freeze({ monitor: a.monitor, ...(a.rule === undefined ? {} : { rule: a.rule }) });
  });
  const registry = list(raw.registry as RegistryTriggerSpec | RegistryTriggerSpec[] | undefined).map((r, i) => {
    const at = `${where}: on.registry${Array.isArray(raw.registry) ? `[${i}]` : ""}`;
    if (!plainObject(r) || typeof r.model !== "string" || r.model === "") {
      throw new PipelineDefinitionError(`${at} needs 'model', a registered model's name`);
    }
    if (typeof r.event !== "string" || !(REGISTRY_EVENT_KINDS as readonly string[]).includes(r.event)) {
      throw new PipelineDefinitionError(
        `${at}: 'event' must be one of ${REGISTRY_EVENT_KINDS.join(", ")}, got ${JSON.stringify(r.event) ?? "nothing"}`,
      );
    }
    if (r.alias !== undefined && (typeof r.alias !== "string" || r.alias === "")) {
      throw new PipelineDefinitionError(`${at}: 'alias' must be an alias name`);
    }
    return Object.freeze({
      model: r.model,
      event: r.event,
      ...(r.alias === undefined ? {} : { alias: r.alias }),
    });
  });
  return Object.freeze({ alert: Object.freeze(alert), registry: Object.freeze(registry) });
}

export function definePipeline(options: PipelineOptions): Pipeline {
  if (!plainObject(options)) throw new PipelineDefinitionError("definePipeline needs { name, steps, ... }");
  const { name } = options;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new PipelineDefinitionError(`a pipeline name must be ${NAME_RULE}, got ${JSON.stringify(name) ?? "nothing"}`);
  }
  const where = `pipeline '${name}'`;
  const known = new Set(["name", "description", "params", "steps", "experiment", "parallelism", "schedule", "on"]);
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new PipelineDefinitionError(
      `${where}: unknown option ${unknown.map((k) => `'${k}'`).join(", ")} (known: ${[...known].join(", ")})`,
    );
  }
  const params = checkParams(where, options.params);
  if (!plainObject(options.steps) || Object.keys(options.steps).length === 0) {
    throw new PipelineDefinitionError(`${where} needs at least one step: steps: { name: step({ run }) }`);
  }
  const steps: Record<string, PipelineStep> = {};
  for (const [stepName, raw] of Object.entries(options.steps))
    steps[stepName] = checkStep(where, stepName, raw, params);
  const order = topologicalOrder(name, steps);
  const parallelism = options.parallelism ?? 4;
  if (!wholeNumber(parallelism, 1)) {
    throw new PipelineDefinitionError(`${where}: 'parallelism' must be a whole number ≥ 1, got ${String(parallelism)}`);
  }
  const experiment = options.experiment ?? `pipelines/${name}`;
  if (typeof experiment !== "string" || experiment.trim() === "") {
    throw new PipelineDefinitionError(`${where}: 'experiment' must be a non-empty name`);
  }
  const schedules = list(options.schedule);
  if (!schedules.every((s) => typeof s === "string" && s.trim() !== "")) {
    throw new PipelineDefinitionError(`${where}: 'schedule' must be a cron expression or a list of them`);
  }
  if (options.description !== undefined && typeof options.description !== "string") {
    throw new PipelineDefinitionError(`${where}: 'description' must be a string`);
  }
  return Object.freeze({
    [PIPELINE_BRAND]: 1 as const,
    name,
    description: options.description,
    params,
    steps: Object.freeze(steps),
    order: Object.freeze(order),
    experiment,
    parallelism,
    schedules: Object.freeze(schedules.map((s) => s.trim())),
    triggers: checkTriggers(where, options.on),
  });
}

/**
 * The parameters of a run: the pipeline's defaults with `overrides` applied. A text override (from a
 * command line) is converted to the default's type (`"20"` → 20, `"true"` → true); anything else must
 * already have that type. Unknown names are refused, listing the known ones.
 */
export function resolvePipelineParams(
  pipeline: Pipeline,
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, PipelineParamValue> {
  const out: Record<string, PipelineParamValue> = { ...pipeline.params };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(pipeline.params, key)) {
      const known = Object.keys(pipeline.params);
      throw new PipelineParamError(
        `pipeline '${pipeline.name}' has no parameter '${key}' (${known.length === 0 ? "it has none" : `its parameters: ${known.join(", ")}`})`,
      );
    }
    const current = pipeline.params[key]!;
    const bad = (want: string) =>
      new PipelineParamError(
        `pipeline '${pipeline.name}': parameter '${key}' must be ${want} (its default is ${JSON.stringify(current)}), got ${JSON.stringify(value) ?? String(value)}`,
      );
    if (typeof current === "number") {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) throw bad("a number");
      out[key] = n;
    } else if (typeof current === "boolean") {
      if (value === true || value === "true") out[key] = true;
      else if (value === false || value === "false") out[key] = false;
      else throw bad("true or false");
    } else {
      if (typeof value !== "string") throw bad("a string");
      out[key] = value;
    }
  }
  return out;
}
