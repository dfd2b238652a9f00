/**
 * Cancelling a distributed batch (interrupted, or failed for good): both sides of it.
 *
 * The coordinator (`cancelBatch`) marks the batch cancelled in Redis — a key beside the queue's own,
 * `<prefix>:<queue>:cancelled:<batchId>` (a job id cannot contain `:`, so it never names a job) — then
 * removes the batch's jobs: waiting and delayed ones at once; a job a worker holds cannot be removed
 * (its lock), so it tries again until the worker has let go of it, for a bounded time. Only this batch's
 * jobs are touched: their ids are `<batchId>-<chunk>`. When every one is gone the mark is deleted;
 * otherwise it expires after a week (longer than any job of the batch can stay on the queue).
 *
 * A worker (`ChunkCancellation`) looks for the mark when it takes a chunk, every second while it
 * predicts it, and once more just before renaming the chunk's files into place; on seeing it, it stops,
 * removes its temporary files and fails the job with a `BatchCancelledError`, and then removes the job
 * itself. So a chunk of a cancelled batch never writes a file, whichever side finishes first.
 */
import type { Queue, RedisClient } from "bullmq";

/** How long the mark outlives a coordinator that could not remove every job of its batch. */
const CANCELLED_TTL_S = 7 * 24 * 3600;

/** How often a worker looks for the mark while it predicts a chunk. */
const CANCEL_POLL_MS = 1000;

/** The mark of a cancelled batch; `toKey` is the queue's (or worker's) key maker. */
export function cancelledKey(toKey: (type: string) => string, batchId: string): string {
  return toKey(`cancelled:${batchId}`);
}

/** A chunk dropped because its batch was cancelled (not a failure of the chunk). */
export class BatchCancelledError extends Error {
  override readonly name: string = "BatchCancelledError";

  constructor(readonly batchId: string) {
    super(`batch ${batchId} was cancelled`);
  }
}

export interface CancelBatchOptions {
  readonly batchId: string;
  /** The ids of the batch's jobs added so far. */
  readonly jobIds: readonly string[];
  /** Longest wait for workers to let go of the chunks they hold. */
  readonly waitMs: number;
  readonly log: (line: string) => void;
}

/**
 * Marks the batch cancelled and removes its jobs; resolves when they are gone or `waitMs` has passed
 * (a job still held then is removed by its worker when it sees the mark). Never rejects: the caller is
 * already failing, and a Redis error here must not hide why.
 */
export async function cancelBatch(queue: Queue, options: CancelBatchOptions): Promise<void> {
  const { batchId, log } = options;
  const key = cancelledKey(queue.toKey, batchId);
  try {
    const client = await queue.getBackend().client;
    await client.set(key, "1", { EX: CANCELLED_TTL_S });
    const deadline = performance.now() + options.waitMs;
    let left = [...options.jobIds];
    let waited = false;
    for (;;) {
      // 1: removed (or already gone); 0: a worker holds it
      const removed = await Promise.all(left.map((id) => queue.remove(id).catch(() => 0)));
      left = left.filter((_, i) => removed[i] !== 1);
      if (left.length === 0) {
        await client.del(key);
        return;
      }
      if (performance.now() >= deadline) {
        log(
          `batch ${batchId}: ${plural(left.length, "chunk")} still held by workers; ` +
            `they drop ${left.length === 1 ? "it" : "them"} when they see the batch cancelled`,
        );
        return;
      }
      if (!waited) log(`batch ${batchId}: waiting for workers to drop ${plural(left.length, "chunk")} in progress`);
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    log(`batch ${batchId}: could not remove its chunks from the queue: ${(error as Error).message}`);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * A worker's watch over one chunk's batch: `signal` aborts (with a `BatchCancelledError`) once the
 * batch's mark is seen, by the poll every `CANCEL_POLL_MS` or by `check`.
 */
export class ChunkCancellation {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: Promise<RedisClient>,
    private readonly key: string,
    private readonly batchId: string,
    pollMs = CANCEL_POLL_MS,
  ) {
    // a failed poll is not a cancellation: the next poll, or `check`, asks again
    this.timer = setInterval(() => void this.check().catch(() => undefined), pollMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Asks Redis now; true (and `signal` aborted) when the batch is cancelled. */
  async check(): Promise<boolean> {
    if (this.signal.aborted) return true;
    const mark = await (await this.client).get(this.key);
    if (mark !== null) this.controller.abort(new BatchCancelledError(this.batchId));
    return this.signal.aborted;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
