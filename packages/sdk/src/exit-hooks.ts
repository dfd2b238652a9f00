/**
 * Flushing runs when the process ends. `beforeExit` (the event loop ran dry: the natural end of a
 * script) ends open runs FINISHED, or FAILED when `process.exitCode` is non-zero. SIGINT/SIGTERM,
 * when the program has no handler of its own, end them KILLED and then re-raise the signal so the
 * process dies with the conventional status (130/143). A second signal while flushing exits at once.
 */
import { constants } from "node:os";

export type ExitReason = "beforeExit" | "SIGINT" | "SIGTERM";

/** The slice of `process` the hooks use (a fake in unit tests). */
export interface HookableProcess {
  readonly pid: number;
  exitCode?: number | string | null | undefined;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  listeners(event: string): readonly unknown[];
  kill(pid: number, signal?: string): unknown;
  exit(code?: number): unknown;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type HandledSignal = (typeof SIGNALS)[number];

/** Marks our listeners, so "has the user registered one?" can ignore every Slipway instance's. */
const OWN = Symbol.for("slipway.sdk.exit-hook");

function isOwn(listener: unknown): boolean {
  return typeof listener === "function" && (listener as unknown as Record<symbol, unknown>)[OWN] === true;
}

function mark<F extends (...args: unknown[]) => void>(fn: F): F {
  (fn as unknown as Record<symbol, unknown>)[OWN] = true;
  return fn;
}

export function signalExitCode(signal: HandledSignal): number {
  return 128 + constants.signals[signal];
}

export interface ExitHooksOptions {
  /** Ends the open runs; must not throw (report failures itself). */
  onExit: (reason: ExitReason) => Promise<void>;
  /** Longest wait for `onExit` after a signal before exiting anyway. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Register SIGINT/SIGTERM handlers (when the program has none). Default true. */
  signals?: boolean;
  process?: HookableProcess;
}

export class ExitHooks {
  private readonly onExit: (reason: ExitReason) => Promise<void>;
  private readonly shutdownTimeoutMs: number;
  private readonly handleSignals: boolean;
  private readonly proc: HookableProcess;
  private installed = false;
  private shuttingDown = false;
  private readonly beforeExitListener = mark(() => {
    this.installed = false;
    this.removeSignalListeners();
    void this.onExit("beforeExit");
  });
  private readonly signalListeners = new Map<HandledSignal, () => void>();

  constructor(options: ExitHooksOptions) {
    this.onExit = options.onExit;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.handleSignals = options.signals ?? true;
    this.proc = options.process ?? process;
  }

  get isInstalled(): boolean {
    return this.installed;
  }

  /** Registers the listeners (idempotent). Signal listeners only where the program has none. */
  install(): void {
    if (this.installed || this.shuttingDown) return;
    this.installed = true;
    this.proc.once("beforeExit", this.beforeExitListener);
    if (!this.handleSignals) return;
    for (const signal of SIGNALS) {
      const userHandles = this.proc.listeners(signal).some((l) => !isOwn(l));
      if (userHandles) continue;
      const listener = mark(() => this.onSignal(signal));
      this.signalListeners.set(signal, listener);
      this.proc.on(signal, listener);
    }
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    this.proc.off("beforeExit", this.beforeExitListener);
    // While a signal is being handled, our listener stays until the signal is re-raised.
    if (!this.shuttingDown) this.removeSignalListeners();
  }

  private removeSignalListeners(): void {
    for (const [signal, listener] of this.signalListeners) this.proc.off(signal, listener);
    this.signalListeners.clear();
  }

  private onSignal(signal: HandledSignal): void {
    if (this.shuttingDown) {
      // Second signal while flushing: the user insists.
      this.proc.exit(signalExitCode(signal));
      return;
    }
    this.shuttingDown = true;
    this.proc.off("beforeExit", this.beforeExitListener);
    const timer = setTimeout(() => this.reraise(signal), this.shutdownTimeoutMs);
    this.onExit(signal)
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.reraise(signal);
      });
  }

  private reraise(signal: HandledSignal): void {
    if (!this.shuttingDown) return; // the timeout and the flush both end here; act once
    this.shuttingDown = false;
    this.removeSignalListeners();
    this.proc.off("beforeExit", this.beforeExitListener);
    this.installed = false;
    // Another handler (the program's, or another Slipway instance still flushing) decides.
    if (this.proc.listeners(signal).length > 0) return;
    // With no listener left, the default action applies: the process dies of the signal.
    this.proc.kill(this.proc.pid, signal);
    this.proc.exit(signalExitCode(signal));
  }
}
