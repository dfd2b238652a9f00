/** The worker thread of `datasetDriftInWorker`: one report per message, errors sent back as their name and message. */
import { parentPort } from "node:worker_threads";
import type { Table } from "../data/table.js";
import { datasetDrift } from "./dataset-drift.js";
import type { WorkerDriftOptions } from "./drift-worker.js";

interface Request {
  reference: Table;
  current: Table;
  options: WorkerDriftOptions;
}

parentPort!.on("message", (request: Request) => {
  try {
    parentPort!.postMessage({ ok: true, drift: datasetDrift(request.reference, request.current, request.options) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    parentPort!.postMessage({ ok: false, name: e.name, message: e.message });
  }
});
