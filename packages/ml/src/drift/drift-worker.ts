/**
 * `datasetDrift` on a worker thread. A drift report over a large window — above all text drift, which trains a
 * classifier — takes seconds of CPU; on the thread of a server it would hold up every request meanwhile (the
 * control plane's monitor evaluations stalled model servers' inference-log writes for 2–9 s). The inputs are plain
 * data (tables are maps of arrays) and so is the report, so both cross by structured clone.
 *
 * One worker per process, created on first use and reused; it does not keep the process alive. Calls are queued
 * and run one at a time (a second worker would only compete for the same cores). A worker that dies fails the call
 * in progress and is replaced on the next.
 */
import { Worker } from "node:worker_threads";
import { MlError } from "../core/errors.js";
import type { Table } from "../data/table.js";
import type { DatasetDrift, DatasetDriftOptions } from "./dataset-drift.js";

/** The options that can cross to the worker (not the progress callback). */
export type WorkerDriftOptions = Omit<DatasetDriftOptions, "onColumn">;

interface Job {
  reference: Table;
  current: Table;
  options: WorkerDriftOptions;
  resolve: (drift: DatasetDrift) => void;
  reject: (error: Error) => void;
}

type Reply = { ok: true; drift: DatasetDrift } | { ok: false; name: string; message: string };

const ENTRY = new URL("./drift-worker-entry.js", import.meta.url);

let worker: Worker | undefined;
const queue: Job[] = [];
let running: Job | undefined;

/** Same result as `datasetDrift(reference, current, options)`, computed off the calling thread. */
export function datasetDriftInWorker(
  reference: Table,
  current: Table,
  options: WorkerDriftOptions = {},
): Promise<DatasetDrift> {
  if ("onColumn" in options) throw new MlError("datasetDriftInWorker: onColumn cannot cross to the worker thread");
  return new Promise((resolve, reject) => {
    queue.push({ reference, current, options, resolve, reject });
    next();
  });
}

function next(): void {
  if (running !== undefined || queue.length === 0) return;
  const job = queue.shift()!;
  running = job;
  const w = ensureWorker();
  w.ref();
  w.postMessage({ reference: job.reference, current: job.current, options: job.options });
}

function ensureWorker(): Worker {
  if (worker !== undefined) return worker;
  const w = new Worker(ENTRY);
  w.on("message", (reply: Reply) => {
    const job = running;
    running = undefined;
    w.unref();
    if (job) {
      if (reply.ok) job.resolve(reply.drift);
      else job.reject(reply.name === "MlError" ? new MlError(reply.message) : new Error(reply.message));
    }
    next();
  });
  const lost = (error: Error) => {
    if (worker === w) worker = undefined;
    const job = running;
    running = undefined;
    job?.reject(new Error(`the drift worker thread stopped: ${error.message}`));
    next();
  };
  w.on("error", lost);
  w.on("exit", (code) => {
    if (worker === w) lost(new Error(`exit code ${code}`));
  });
  w.unref();
  worker = w;
  return w;
}
