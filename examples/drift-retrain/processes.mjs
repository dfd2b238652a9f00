// processes.mjs — the example's child processes: `slipway server`, `slipway serve`, `slipway pipeline
// scheduler` and one-shot commands, each with its output appended to a log file in the data directory, and all
// of them stopped on the way out (also on Ctrl-C).
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { clearTimeout, setTimeout } from "node:timers";

const require = createRequire(import.meta.url);
/** The CLI of this checkout (the `slipway` workspace package, built by `tsc -b`: its main is dist/index.js). */
export const SLIPWAY_BIN = join(dirname(dirname(require.resolve("slipway"))), "bin", "slipway.js");

/** A stage that did not finish in time, or failed: the message names the stage. */
export class StageError extends Error {
  constructor(stage, message) {
    super(`stage '${stage}': ${message}`);
    this.stage = stage;
  }
}

export class Processes {
  /** @param {string} logDir where each process's output goes (`<name>.log`) */
  constructor(logDir) {
    this.logDir = logDir;
    this.children = new Set();
    /** The first long-running process that exited without being stopped: the run cannot go on. */
    this.crashed = undefined;
  }

  /**
   * Starts `node ARGS` (a long-running process). Its output is appended to `<name>.log` and kept in memory for
   * `waitFor`; `onLine` sees each line of stdout and stderr. Should it exit before `stop`, `crashed` says so,
   * naming `stage`.
   */
  start(name, args, { env = {}, onLine, stage = name } = {}) {
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: "a" });
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const entry = {
      name,
      child,
      output: "",
      exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
      waiters: new Set(),
    };
    let partial = "";
    const onData = (chunk) => {
      const text = chunk.toString();
      log.write(text);
      entry.output += text;
      if (entry.output.length > 1_000_000) entry.output = entry.output.slice(-500_000);
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop();
      if (onLine) for (const line of lines) onLine(line);
      for (const waiter of entry.waiters) waiter();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void entry.exited.then(({ code, signal }) => {
      log.end();
      if (!entry.stopping && !entry.oneShot && this.crashed === undefined) {
        this.crashed = new StageError(stage, `${name} exited by itself (${code ?? signal}): ${tail(entry.output)}`);
      }
      for (const waiter of entry.waiters) waiter();
    });
    this.children.add(entry);
    return entry;
  }

  /** Waits until the process's output matches `pattern`; fails (naming the stage) on exit or timeout. */
  waitFor(entry, pattern, { stage, timeoutMs }) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        entry.waiters.delete(check);
        reject(
          new StageError(stage, `no answer within ${timeoutMs / 1000} s; see ${join(this.logDir, entry.name)}.log`),
        );
      }, timeoutMs);
      const check = () => {
        const m = pattern.exec(entry.output);
        if (m) {
          clearTimeout(timer);
          entry.waiters.delete(check);
          resolve(m);
        } else if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
          clearTimeout(timer);
          entry.waiters.delete(check);
          reject(
            new StageError(
              stage,
              `${entry.name} exited (${entry.child.exitCode ?? entry.child.signalCode}): ${tail(entry.output)}`,
            ),
          );
        }
      };
      entry.waiters.add(check);
      check();
    });
  }

  /** Runs `node ARGS` to completion; rejects (naming the stage) on a non-zero exit or a timeout. */
  async run(name, args, { env = {}, stage, timeoutMs }) {
    const entry = this.start(name, args, { env });
    entry.oneShot = true;
    const timer = setTimeout(() => entry.child.kill("SIGTERM"), timeoutMs);
    const { code, signal } = await entry.exited;
    clearTimeout(timer);
    this.children.delete(entry);
    if (code !== 0) {
      const why = signal === null ? `exited with ${code}` : `did not finish within ${timeoutMs / 1000} s`;
      throw new StageError(stage, `${name} ${why}: ${tail(entry.output)}`);
    }
    return entry.output;
  }

  /** Stops one process (SIGTERM, then SIGKILL after `graceMs`) and waits for its exit. */
  async stop(entry, graceMs = 10_000) {
    this.children.delete(entry);
    entry.stopping = true;
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
    entry.child.kill("SIGTERM");
    const timer = setTimeout(() => entry.child.kill("SIGKILL"), graceMs);
    await entry.exited;
    clearTimeout(timer);
  }

  /** Stops every process still running, the most recently started first (model server before control plane). */
  async stopAll(graceMs) {
    for (const entry of [...this.children].reverse()) await this.stop(entry, graceMs);
  }
}

function tail(text) {
  const lines = text.trim().split("\n");
  return lines.slice(-5).join(" | ");
}
