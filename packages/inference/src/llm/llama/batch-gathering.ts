/**
 * When to send the next llama.cpp batch. node-llama-cpp dispatches on the next event-loop turn after
 * the first sequence queues its token; when the sequences' sampling steps finish at different moments
 * (they run one after another on libuv's thread), that turn comes before the others have queued, and
 * one step of N streams becomes two or three small decodes: each reads all the weights again, which is
 * where a memory-bound decode spends its time. This schedule waits, turn by turn, until every sequence
 * that is generating has queued its token, or `maxWaitMs` has passed (a sequence busy elsewhere, e.g.
 * compiling a grammar, must not stall the others for long).
 *
 * `queued` reads node-llama-cpp's own count of sequences with a pending decode (an internal field of the
 * pinned 3.21.1; when it is missing the schedule degrades to node-llama-cpp's default, the next turn).
 *
 * An empty queue ends the wait too: node-llama-cpp dispatches by itself when every sequence of the context
 * has queued, before it asks the schedule, and a running batch takes decodes queued meanwhile. (The wait
 * used to go on polling for its whole 5 ms then, beside the decode: a busy main thread next to llama.cpp's
 * compute threads, which on 2 cores cost the tiny test model 85% of its decode speed at `threads: 2`.)
 */
export type DispatchSchedule = (dispatch: () => void) => void;

export interface GatheringOptions {
  /** Sequences with a decode queued now, or undefined when unknown. */
  queued(): number | undefined;
  /** Sequences generating now (checked out of the slot pool). */
  active(): number;
  maxWaitMs: number;
}

export function gatherBatches(options: GatheringOptions): DispatchSchedule {
  return (dispatch) => {
    const started = performance.now();
    const poll = () => {
      const queued = options.queued();
      // nothing queued: the batch went out already (see above), or a running batch took its decodes, or they
      // were cancelled. `dispatch` is still called: it does nothing for a batch already sent, and otherwise
      // clears node-llama-cpp's "dispatch scheduled" flag, without which no later decode would be scheduled.
      const waiting = queued !== undefined && queued > 0 && queued < options.active();
      if (!waiting || performance.now() - started >= options.maxWaitMs) {
        dispatch();
      } else {
        setImmediate(poll);
      }
    };
    setImmediate(poll);
  };
}

/** node-llama-cpp's count of sequences with a queued decode (see above), read defensively. */
export function queuedSequences(context: object): number | undefined {
  const ids = (context as { _queuedDecodeSequenceIds?: unknown })._queuedDecodeSequenceIds;
  return ids instanceof Set ? ids.size : undefined;
}
