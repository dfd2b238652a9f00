/**
 * `slipway pipeline scheduler`: starts pipeline runs on their triggers.
 *
 * - Cron schedules (`schedule: "0 3 * * *"`, UTC): a timer per schedule, at each tick. A tick missed while
 *   the scheduler was not running is not made up for.
 * - Registry events (`on: { registry: { model, event, alias? } }`): a subscription to the control plane's
 *   event stream (`GET /api/2.0/slipway/events`, which reconnects and resumes by itself); events older than
 *   the scheduler are ignored.
 * - Alerts (`on: { alert: { monitor, rule? } }`): the firing alerts are read every `alertPollMs`; each alert
 *   incident (alert id) starts one run.
 *
 * Every firing is claimed before its run starts (`TriggerClaims`: Redis `SET NX PX` with `--redis`), so two
 * schedulers never start the same scheduled run twice. Alert and registry firings are also looked up among
 * the pipeline's runs (tag `slipway.pipeline.trigger_id`), so a restarted scheduler does not repeat them.
 */
import {
  PIPELINE_TAGS,
  subscribeRegistryEvents,
  triggerId,
  type AlertTriggerSpec,
  type Pipeline,
  type PipelineTrigger,
  type RegistryTriggerSpec,
  type TrackingClient,
} from "@slipway/sdk";
import { MlflowError } from "@slipway/protocol";
import type { CronSchedule } from "@slipway/server";
import { fetchFiringAlerts } from "./alerts.js";
import type { LoadedPipelines } from "./load-pipelines.js";
import type { TriggerClaims } from "./trigger-claims.js";

export interface PipelineSchedulerOptions {
  readonly pipelines: LoadedPipelines;
  readonly client: TrackingClient;
  readonly claims: TriggerClaims;
  /** Starts a run; the scheduler does not wait for it to end. */
  readonly start: (pipeline: Pipeline, trigger: PipelineTrigger) => void;
  readonly log: (line: string) => void;
  /** The clock (epoch ms). Default `Date.now`. */
  readonly now?: () => number;
  /** How often firing alerts are read. Default 15 000 ms. */
  readonly alertPollMs?: number;
  readonly fetch?: typeof fetch;
}

/** setTimeout takes at most 2^31-1 ms; wake at least hourly and look again. */
const MAX_WAIT_MS = 3_600_000;
const SCHEDULE_CLAIM_MS = 24 * 3_600_000;
const EVENT_CLAIM_MS = 30 * 24 * 3_600_000;
/** Events up to this long before the scheduler started still count (clocks differ a little). */
const EVENT_SKEW_MS = 2000;

export class PipelineScheduler {
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controller = new AbortController();
  private readonly background = new Set<Promise<unknown>>();
  private readonly handledAlerts = new Set<string>();
  private startedAt = 0;
  /** Runs started (for tests and the final log line). */
  started = 0;

  constructor(private readonly options: PipelineSchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** What the scheduler watches, for its first log line. */
  describe(): { schedules: number; alerts: number; registry: number } {
    let schedules = 0;
    let alerts = 0;
    let registry = 0;
    for (const p of this.options.pipelines.pipelines.values()) {
      schedules += p.schedules.length;
      alerts += p.triggers.alert.length;
      registry += p.triggers.registry.length;
    }
    return { schedules, alerts, registry };
  }

  start(): void {
    this.startedAt = this.now();
    const { pipelines, schedules } = this.options.pipelines;
    for (const pipeline of pipelines.values()) {
      for (const schedule of schedules.get(pipeline.name) ?? []) {
        const first = schedule.next(this.now());
        if (first !== undefined) this.armCron(pipeline, schedule, first);
        this.options.log(
          `${pipeline.name}: schedule '${schedule.expression}', next run ${first === undefined ? "never" : new Date(first).toISOString()}`,
        );
      }
      for (const spec of pipeline.triggers.registry) this.subscribe(pipeline, spec);
    }
    if (this.describe().alerts > 0) this.pollAlerts();
  }

  private track<T>(promise: Promise<T>): void {
    this.background.add(promise);
    void promise.finally(() => this.background.delete(promise)).catch(() => undefined);
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.controller.signal.aborted) fn();
    }, ms);
    this.timers.add(timer);
  }

  private armCron(pipeline: Pipeline, schedule: CronSchedule, tick: number): void {
    const wait = tick - this.now();
    if (wait > 0) {
      this.later(() => this.armCron(pipeline, schedule, tick), Math.min(wait, MAX_WAIT_MS));
      return;
    }
    this.track(this.fire(pipeline, { kind: "schedule", schedule: schedule.expression, time: tick }, SCHEDULE_CLAIM_MS));
    // ticks missed while this process was asleep are not made up for
    const next = schedule.next(Math.max(tick, this.now()));
    if (next !== undefined) this.armCron(pipeline, schedule, next);
  }

  private subscribe(pipeline: Pipeline, spec: RegistryTriggerSpec): void {
    const done = subscribeRegistryEvents(this.options.client.trackingUri, {
      model: spec.model,
      kinds: [spec.event],
      signal: this.controller.signal,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      onEvent: (event) => {
        if (event.name !== spec.model || event.kind !== spec.event) return;
        if (spec.alias !== undefined && event.alias !== spec.alias) return;
        if (event.created_at < this.startedAt - EVENT_SKEW_MS) return;
        this.track(this.fire(pipeline, { kind: "registry", event }, EVENT_CLAIM_MS));
      },
      onError: (error) => this.options.log(`${pipeline.name}: registry event stream: ${message(error)} (reconnecting)`),
    }).catch((error: unknown) => {
      this.options.log(`${pipeline.name}: registry trigger on '${spec.model}' stopped: ${message(error)}`);
    });
    this.track(done);
  }

  private pollAlerts(): void {
    const poll = async () => {
      try {
        const alerts = await fetchFiringAlerts(this.options.client.trackingUri, {
          signal: this.controller.signal,
          ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        });
        for (const pipeline of this.options.pipelines.pipelines.values()) {
          for (const alert of alerts) {
            if (!pipeline.triggers.alert.some((spec) => matches(spec, alert))) continue;
            const key = `${pipeline.name}:${alert.id}`;
            if (this.handledAlerts.has(key)) continue;
            this.handledAlerts.add(key);
            await this.fire(pipeline, { kind: "alert", alert }, EVENT_CLAIM_MS);
          }
        }
      } catch (error) {
        if (!this.controller.signal.aborted) this.options.log(`reading firing alerts failed: ${message(error)}`);
      }
      this.later(() => this.track(poll()), this.options.alertPollMs ?? 15_000);
    };
    this.track(poll());
  }

  /** Claims the firing, checks that no run already recorded it, and starts the run. */
  private async fire(pipeline: Pipeline, trigger: PipelineTrigger, claimMs: number): Promise<void> {
    const id = triggerId(trigger)!;
    try {
      if (!(await this.options.claims.claim(`${pipeline.name}:${id}`, claimMs))) {
        this.options.log(`${pipeline.name}: ${id} was claimed by another scheduler`);
        return;
      }
      if (trigger.kind !== "schedule" && (await this.alreadyRan(pipeline, id))) {
        this.options.log(`${pipeline.name}: ${id} already has a run`);
        return;
      }
    } catch (error) {
      this.options.log(`${pipeline.name}: cannot claim ${id}: ${message(error)}; not starting it`);
      return;
    }
    this.started++;
    this.options.log(`${pipeline.name}: starting a run for ${id}`);
    this.options.start(pipeline, trigger);
  }

  private async alreadyRan(pipeline: Pipeline, id: string): Promise<boolean> {
    const { client } = this.options;
    let experimentId: string;
    try {
      experimentId = (await client.getExperimentByName({ experiment_name: pipeline.experiment })).experiment
        .experiment_id;
    } catch (error) {
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") return false;
      throw error;
    }
    const { runs } = await client.searchRuns({
      experiment_ids: [experimentId],
      filter: `tags.\`${PIPELINE_TAGS.triggerId}\` = '${id.replaceAll("'", "\\'")}'`,
      max_results: 10,
    });
    return (runs ?? []).some((r) => r.data.tags?.some((t) => t.key === PIPELINE_TAGS.triggerId && t.value === id));
  }

  /** Stops watching (runs already started are the caller's). */
  async stop(): Promise<void> {
    this.controller.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.background]);
  }
}

function matches(spec: AlertTriggerSpec, alert: { monitor: string; rule: string }): boolean {
  return spec.monitor === alert.monitor && (spec.rule === undefined || spec.rule === alert.rule);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
