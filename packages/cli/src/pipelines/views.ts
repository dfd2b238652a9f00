/** What `slipway pipeline list|run|status` print: tables for people, plain objects for `--json`. */
import type { Pipeline, PipelineEvent, PipelineRunInfo, PipelineRunResult } from "@slipway/sdk";
import type { CronSchedule } from "@slipway/server";
import { formatTime, table } from "../output.js";

export function seconds(ms: number | undefined): string {
  if (ms === undefined) return "";
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(s < 10 ? 2 : 1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

function triggersText(p: Pipeline): string {
  return [
    ...p.triggers.alert.map((a) => `alert ${a.monitor}${a.rule === undefined ? "" : `/${a.rule}`}`),
    ...p.triggers.registry.map((r) => `registry ${r.model} ${r.event}${r.alias === undefined ? "" : ` @${r.alias}`}`),
  ].join("; ");
}

export function pipelinesJson(
  pipelines: readonly Pipeline[],
  schedules: ReadonlyMap<string, readonly CronSchedule[]>,
  now: number,
) {
  return pipelines.map((p) => ({
    name: p.name,
    ...(p.description === undefined ? {} : { description: p.description }),
    experiment: p.experiment,
    params: p.params,
    steps: p.order.map((name) => {
      const s = p.steps[name]!;
      return {
        name,
        needs: s.needs,
        retries: s.retries,
        ...(s.timeoutMs === undefined ? {} : { timeout_ms: s.timeoutMs }),
        cache: s.cache !== false,
      };
    }),
    schedules: (schedules.get(p.name) ?? []).map((s) => {
      const next = s.next(now);
      return { expression: s.expression, ...(next === undefined ? {} : { next: new Date(next).toISOString() }) };
    }),
    triggers: p.triggers,
  }));
}

export function pipelinesTable(
  pipelines: readonly Pipeline[],
  schedules: ReadonlyMap<string, readonly CronSchedule[]>,
  now: number,
): string {
  return table(
    ["NAME", "STEPS", "PARAMS", "SCHEDULE", "TRIGGERS"],
    pipelines.map((p) => [
      p.name,
      p.order.join(" → "),
      Object.entries(p.params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(" "),
      (schedules.get(p.name) ?? [])
        .map((s) => {
          const next = s.next(now);
          return `${s.expression}${next === undefined ? "" : ` (next ${formatTime(next)})`}`;
        })
        .join("; "),
      triggersText(p),
    ]),
  );
}

/** One progress line per runner event. */
export function eventLine(event: PipelineEvent): string {
  switch (event.type) {
    case "run-started":
      return `pipeline ${event.pipeline}: run ${event.runId} started (experiment ${event.experimentId})`;
    case "step-started":
      return `${event.step}: started (run ${event.runId})`;
    case "step-cached":
      return `${event.step}: cached, reusing run ${event.sourceRunId}`;
    case "step-finished":
      return `${event.step}: ${event.status} in ${seconds(event.durationMs)}${
        event.attempts > 1 ? ` after ${event.attempts} attempts` : ""
      }${event.error === undefined ? "" : `: ${event.error}`}`;
    case "run-finished":
      return `pipeline run ${event.runId}: ${event.status} in ${seconds(event.durationMs)}`;
  }
}

export function resultJson(result: PipelineRunResult) {
  return {
    pipeline: result.pipeline,
    run_id: result.runId,
    experiment_id: result.experimentId,
    status: result.status,
    duration_ms: Math.round(result.durationMs),
    ...(result.error === undefined ? {} : { error: result.error }),
    steps: Object.values(result.steps).map((s) => ({
      name: s.name,
      status: s.status,
      ...(s.runId === undefined ? {} : { run_id: s.runId }),
      cached: s.cached,
      ...(s.cacheSource === undefined ? {} : { cache_source: s.cacheSource }),
      attempts: s.attempts,
      ...(s.durationMs === undefined ? {} : { duration_ms: Math.round(s.durationMs) }),
      ...(s.outputs === undefined ? {} : { outputs: s.outputs }),
      ...(s.error === undefined ? {} : { error: s.error }),
    })),
  };
}

export function resultTable(result: PipelineRunResult): string {
  return [
    `pipeline ${result.pipeline}: ${result.status} in ${seconds(result.durationMs)} (run ${result.runId})`,
    ...(result.error === undefined ? [] : [`error: ${result.error}`]),
    "",
    table(
      ["STEP", "STATUS", "CACHED", "ATTEMPTS", "DURATION", "RUN ID", "ERROR"],
      Object.values(result.steps).map((s) => [
        s.name,
        s.status,
        s.cached ? "yes" : "",
        s.attempts,
        seconds(s.durationMs),
        s.runId ?? "",
        s.error ?? "",
      ]),
    ),
  ].join("\n");
}

const tag = (info: PipelineRunInfo, key: string) => info.run.data.tags?.find((t) => t.key === key)?.value;

export function statusJson(info: PipelineRunInfo) {
  const i = info.run.info;
  return {
    pipeline: info.pipeline,
    run_id: i.run_id,
    experiment_id: i.experiment_id,
    status: i.status,
    start_time: i.start_time,
    ...(i.end_time === undefined ? {} : { end_time: i.end_time }),
    trigger: info.shape?.trigger ?? { kind: tag(info, "slipway.pipeline.trigger") ?? "manual" },
    executor: info.shape?.executor ?? tag(info, "slipway.pipeline.executor"),
    // in the pipeline's order (the server lists params sorted)
    params: info.shape?.params ?? Object.fromEntries((info.run.data.params ?? []).map((p) => [p.key, p.value])),
    ...(info.cancelRequested === undefined ? {} : { cancel_requested: info.cancelRequested }),
    ...(info.error === undefined ? {} : { error: info.error }),
    steps: info.steps.map((s) => ({
      name: s.name,
      needs: s.needs,
      status: s.status,
      ...(s.run ? { run_id: s.run.info.run_id, start_time: s.run.info.start_time } : {}),
      ...(s.run?.info.end_time === undefined ? {} : { end_time: s.run.info.end_time }),
      cached: s.cached,
      ...(s.cacheSource === undefined ? {} : { cache_source: s.cacheSource }),
      ...(s.attempts === undefined ? {} : { attempts: s.attempts }),
      ...(s.error === undefined ? {} : { error: s.error }),
    })),
  };
}

export function statusTable(info: PipelineRunInfo): string {
  const i = info.run.info;
  const view = statusJson(info);
  const duration = i.end_time === undefined ? undefined : i.end_time - i.start_time;
  return [
    `pipeline ${info.pipeline}: run ${i.run_id} ${i.status}`,
    `  started: ${formatTime(i.start_time)}   ended: ${formatTime(i.end_time)}   duration: ${seconds(duration)}`,
    `  trigger: ${view.trigger.kind}   executor: ${view.executor ?? ""}   params: ${Object.entries(view.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(" ")}`,
    ...(info.cancelRequested === undefined ? [] : [`  cancel requested: ${info.cancelRequested}`]),
    ...(info.error === undefined ? [] : [`  error: ${info.error}`]),
    "",
    table(
      ["STEP", "STATUS", "CACHED", "ATTEMPTS", "DURATION", "RUN ID", "ERROR"],
      info.steps.map((s) => [
        s.name,
        s.status,
        s.cached ? "yes" : "",
        s.attempts ?? "",
        s.run?.info.end_time === undefined ? "" : seconds(s.run.info.end_time - s.run.info.start_time),
        s.run?.info.run_id ?? "",
        s.error ?? "",
      ]),
    ),
  ].join("\n");
}
