/** Child processes of the CLI's end-to-end tests: `slipway ARGS` with its output collected, and a Redis probe. */
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { BIN } from "./harness.js";

/** Whether a Redis server answers PING at 127.0.0.1:6379 (tests skip with a reason when not). */
export function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port: 6379 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

export interface SlipwayProcess {
  readonly process: ChildProcess;
  /** Its exit code, or the signal that killed it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far. */
  output(): string;
  /** stdout alone so far. */
  stdout(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /**
   * Its exit code once it exits; past `timeoutMs` it is killed (SIGKILL) and this rejects with its output,
   * so a test fails with what the process said instead of hanging.
   */
  exitCode(timeoutMs?: number): Promise<number | null>;
  /** Sends `signal` (default SIGTERM) unless it already exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `slipway ARGS` in a child process, its output collected. */
export function startSlipway(args: readonly string[], env: Record<string, string>): SlipwayProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let out = "";
  let stdout = "";
  const waiters: (() => void)[] = [];
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
    onData(c);
  });
  child.stderr.on("data", onData);
  return {
    process: child,
    exited,
    output: () => out,
    stdout: () => stdout,
    exitCode(timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`still running after ${timeoutMs} ms (killed): ${out}`));
        }, timeoutMs);
        void exited.then(({ code }) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms: ${out}`)),
          timeoutMs,
        );
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
