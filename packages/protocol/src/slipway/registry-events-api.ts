/** Slipway's registry event stream (`GET /api/2.0/slipway/events`) and webhook payloads: the wire types. */

export const REGISTRY_EVENT_KINDS = [
  "model_version.created",
  "alias.set",
  "alias.deleted",
  "model_version.stage_changed",
] as const;
export type RegistryEventKind = (typeof REGISTRY_EVENT_KINDS)[number];

/** One registry event, as the stream's `data:` line carries it. Versions are strings, as in MLflow's API. */
export interface RegistryEvent {
  event_id: string;
  kind: RegistryEventKind;
  /** The registered model's name when the event happened. */
  name: string;
  /** Epoch milliseconds. */
  created_at: number;
  version?: string;
  /** alias.set / alias.deleted */
  alias?: string;
  /** model_version.stage_changed: the version's new stage (its old one is `from_stage`). */
  stage?: string;
  from_stage?: string;
  from_version?: string;
  to_version?: string;
  reason?: string;
  /** model_version.created */
  source?: string;
  run_id?: string;
  [extra: string]: unknown;
}
