/**
 * Loading a pipelines file (`--pipelines FILE`, default `./pipelines.mjs`): an ES module whose exports
 * (named, or the default: one pipeline or a list of them) are `definePipeline(...)` results. Pipelines are
 * recognised by a brand, not by class, so a file may import its own copy of `@slipway/sdk`. Their cron
 * schedules are parsed here, so a bad expression fails when the file is loaded, naming the pipeline.
 *
 * The cron parser is the control plane's (`@slipway/server`, which the CLI may import and the SDK may
 * not); the SDK keeps `schedule` as text for that reason.
 */
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isPipeline, PipelineDefinitionError, type Pipeline } from "@slipway/sdk";
import { CronError, parseCron, type CronSchedule } from "@slipway/server";
import { UsageError } from "../errors.js";

export const DEFAULT_PIPELINES_FILE = "./pipelines.mjs";

export interface LoadedPipelines {
  /** The absolute path of the file. */
  readonly file: string;
  /** By name, in the order of the exports' names (a module namespace lists them sorted). */
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /** Parsed schedules by pipeline name (same order as `pipeline.schedules`). */
  readonly schedules: ReadonlyMap<string, readonly CronSchedule[]>;
}

export async function loadPipelines(file: string = DEFAULT_PIPELINES_FILE): Promise<LoadedPipelines> {
  const path = resolve(file);
  try {
    await access(path);
  } catch {
    throw new UsageError(
      `--pipelines: ${file} does not exist (an ES module exporting definePipeline(...) results; see docs/pipelines.md)`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof PipelineDefinitionError) throw new UsageError(`${file}: ${error.message}`);
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot load ${file}: ${why}`, { cause: error });
  }
  const pipelines = new Map<string, Pipeline>();
  const add = (value: unknown, where: string) => {
    if (!isPipeline(value)) return;
    const seen = pipelines.get(value.name);
    if (seen !== undefined && seen !== value) {
      throw new UsageError(`${file}: two different pipelines are named '${value.name}' (the second is ${where})`);
    }
    pipelines.set(value.name, value);
  };
  for (const [name, value] of Object.entries(module)) {
    if (Array.isArray(value)) value.forEach((item, i) => add(item, `export ${name}[${i}]`));
    else add(value, `export ${name}`);
  }
  if (pipelines.size === 0) {
    throw new UsageError(`${file} exports no pipeline (export the result of definePipeline(...) from @slipway/sdk)`);
  }
  const schedules = new Map<string, CronSchedule[]>();
  for (const pipeline of pipelines.values()) {
    schedules.set(
      pipeline.name,
      pipeline.schedules.map((expression) => {
        try {
          return parseCron(expression);
        } catch (error) {
          if (error instanceof CronError) {
            throw new UsageError(`${file}: pipeline '${pipeline.name}': schedule '${expression}': ${error.message}`);
          }
          throw error;
        }
      }),
    );
  }
  return { file: path, pipelines, schedules };
}

/** The pipeline called `name`, or a usage error listing the file's pipelines. */
export function pipelineNamed(loaded: LoadedPipelines, name: string, shown: string): Pipeline {
  const pipeline = loaded.pipelines.get(name);
  if (!pipeline) {
    throw new UsageError(
      `no pipeline '${name}' in ${shown} (its pipelines: ${[...loaded.pipelines.keys()].join(", ")})`,
    );
  }
  return pipeline;
}
