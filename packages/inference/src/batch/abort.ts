/**
 * Interrupting a batch job: the caller's `AbortSignal` (the CLI's on SIGINT / SIGTERM) reaches every
 * wait of the job, and `abortable` lets a wait end as soon as the signal fires, rejecting with the
 * signal's reason. The work behind the abandoned promise is the owner's to stop and clean up (threads
 * terminated, temporary files removed, queued chunks removed); this only stops the waiting.
 */

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts, whichever comes first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // the abandoned promise may still reject: that is nobody's concern any more
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => (onAbort = () => reject(signal.reason as Error)));
  signal.addEventListener("abort", onAbort, { once: true });
  // race settles on `promise` too, so a later rejection of it is handled
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}
