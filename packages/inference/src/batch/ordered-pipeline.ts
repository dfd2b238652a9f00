/**
 * Running blocks through the prediction threads in parallel while delivering their results strictly in
 * input order: at most `maxInFlight` blocks are read but not yet delivered, so memory is bounded by that
 * many blocks whatever the input's size, and a slow block only holds back the ones after it. When
 * `signal` aborts, it stops at once (rejecting with the signal's reason): no block is read or delivered
 * after that, and the results of blocks still running are dropped when they come.
 */
import { abortable } from "./abort.js";
import type { BlockResult, InputBlock } from "./block.js";

export interface OrderedPipelineOptions {
  readonly blocks: AsyncIterable<InputBlock>;
  readonly run: (block: InputBlock) => Promise<BlockResult>;
  /** Blocks read but not delivered yet (≥ 1). */
  readonly maxInFlight: number;
  /** Called once per block, in block order; the next is not delivered before it settles. */
  readonly deliver: (result: BlockResult, block: { readonly bytes: number }) => Promise<void>;
  /** Stops reading and delivering. */
  readonly signal?: AbortSignal;
}

export async function runOrdered(options: OrderedPipelineOptions): Promise<void> {
  const { signal } = options;
  const inFlight = new Map<number, { result: Promise<BlockResult>; bytes: number }>();
  let next = 0;
  const deliverNext = async () => {
    const head = inFlight.get(next);
    if (!head) throw new Error(`block ${next} was never read (blocks must be numbered 0, 1, 2...)`);
    const result = await abortable(head.result, signal);
    inFlight.delete(next);
    next++;
    await options.deliver(result, { bytes: head.bytes });
  };
  try {
    signal?.throwIfAborted();
    for await (const block of options.blocks) {
      signal?.throwIfAborted();
      const bytes = block.kind === "text" ? block.bytes.byteLength : 0;
      const result = options.run(block);
      // failures surface in order through deliverNext; this only keeps them from being "unhandled"
      result.catch(() => undefined);
      inFlight.set(block.index, { result, bytes });
      while (inFlight.size >= options.maxInFlight) await deliverNext();
    }
    while (inFlight.size > 0) await deliverNext();
    signal?.throwIfAborted();
  } finally {
    inFlight.clear();
  }
}
