/**
 * Why a pipeline run started. The runner records it on the run (tags `slipway.pipeline.trigger` and
 * `slipway.pipeline.trigger_id`, and `pipeline.json`) and gives it to every step as `ctx.trigger`, so a
 * retraining step can read which alert fired or which model version was registered.
 */
import type { RegistryEvent, RegistryEventKind } from "@slipway/protocol";

/** Run on a monitor's alert (`GET /api/2.0/slipway/alerts?state=firing`): once per alert incident. */
export interface AlertTriggerSpec {
  readonly monitor: string;
  /** Only this alert rule of the monitor (default: any). */
  readonly rule?: string;
}

/** Run on a registry event of one registered model (`GET /api/2.0/slipway/events`). */
export interface RegistryTriggerSpec {
  readonly model: string;
  readonly event: RegistryEventKind;
  /** For `alias.set` / `alias.deleted`: only this alias. */
  readonly alias?: string;
}

export interface PipelineTriggers {
  readonly alert?: AlertTriggerSpec | readonly AlertTriggerSpec[];
  readonly registry?: RegistryTriggerSpec | readonly RegistryTriggerSpec[];
}

/** The alert a run was started for (from the alerts API's `MonitorAlert`). */
export interface TriggerAlert {
  readonly id: number;
  readonly monitor: string;
  readonly rule: string;
  readonly message: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
}

export type PipelineTrigger =
  | { readonly kind: "manual" }
  | { readonly kind: "schedule"; readonly schedule: string; /** The tick, epoch ms. */ readonly time: number }
  | { readonly kind: "alert"; readonly alert: TriggerAlert }
  | { readonly kind: "registry"; readonly event: RegistryEvent };

/**
 * What identifies one firing of a trigger (`schedule:0 3 * * *@2026-03-03T03:00:00.000Z`, `alert:12`,
 * `registry:345`): schedulers claim it so a firing starts one run, and runs record it as a tag.
 */
export function triggerId(trigger: PipelineTrigger): string | undefined {
  switch (trigger.kind) {
    case "manual":
      return undefined;
    case "schedule":
      return `schedule:${trigger.schedule}@${new Date(trigger.time).toISOString()}`;
    case "alert":
      return `alert:${trigger.alert.id}`;
    case "registry":
      return `registry:${trigger.event.event_id}`;
  }
}
