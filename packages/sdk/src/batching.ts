/** Splitting params, tags and metrics into `runs/log-batch` requests that respect MLflow's limits. */
import { stringifyJson, type Metric, type Param, type RunTag } from "@slipway/protocol";

/** `mlflow/utils/validation.py`: per-request limits of log-batch. */
export const LOG_BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  entities: 1000,
  /** `MAX_BATCH_LOG_REQUEST_SIZE`, checked by MLflow's Python client. */
  bytes: 1_000_000,
} as const;

export type BatchLimits = { readonly [K in keyof typeof LOG_BATCH_LIMITS]: number };

export interface BatchEntities {
  metrics: Metric[];
  params: Param[];
  tags: RunTag[];
}

/** Room kept for `{"run_id":"…","metrics":[],"params":[],"tags":[]}` around the entities. */
const ENVELOPE_BYTES = 512;

/**
 * Packs entities into as few batches as the limits allow. Order within each kind is kept, and
 * batches come out in order, so replaying them one after another preserves it. Params and tags
 * go first (they are few), metrics fill the remaining room. An entity too large for the byte
 * budget on its own still gets a batch of its own (the server then decides).
 */
export function splitIntoBatches(
  input: Partial<BatchEntities>,
  limits: BatchLimits = LOG_BATCH_LIMITS,
): BatchEntities[] {
  const params = input.params ?? [];
  const tags = input.tags ?? [];
  const metrics = input.metrics ?? [];
  const next = { params: 0, tags: 0, metrics: 0 };
  const batches: BatchEntities[] = [];
  while (next.params < params.length || next.tags < tags.length || next.metrics < metrics.length) {
    const batch: BatchEntities = { metrics: [], params: [], tags: [] };
    const room = { entities: 0, bytes: ENVELOPE_BYTES };
    next.params = fill(params, next.params, batch.params, limits.params, room, limits);
    next.tags = fill(tags, next.tags, batch.tags, limits.tags, room, limits);
    next.metrics = fill(metrics, next.metrics, batch.metrics, limits.metrics, room, limits);
    batches.push(batch);
  }
  return batches;
}

/** Moves entities from `queue[start..]` into `out` while the limits allow; returns the next index. */
function fill<E extends object>(
  queue: readonly E[],
  start: number,
  out: E[],
  maxOfKind: number,
  room: { entities: number; bytes: number },
  limits: BatchLimits,
): number {
  let i = start;
  while (i < queue.length && out.length < maxOfKind && room.entities < limits.entities) {
    const entity = queue[i]!;
    const size = Buffer.byteLength(stringifyJson(entity)) + 1;
    if (room.bytes + size > limits.bytes && room.entities > 0) break;
    out.push(entity);
    i++;
    room.entities++;
    room.bytes += size;
  }
  return i;
}

/** Keeps only the non-empty kinds, so a request carries no `"params": []` noise. */
export function compactBatch(batch: BatchEntities): Partial<BatchEntities> {
  return {
    ...(batch.metrics.length ? { metrics: batch.metrics } : {}),
    ...(batch.params.length ? { params: batch.params } : {}),
    ...(batch.tags.length ? { tags: batch.tags } : {}),
  };
}
