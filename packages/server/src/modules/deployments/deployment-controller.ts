/**
 * The canary controller: every `tickMs` it looks at each deployment with a running canary and lets the service decide
 * (step up, hold, promote, roll back; see canary-policy.ts). Each decision is a conditional update on the
 * deployment's revision, so every control-plane replica may run a controller: of two deciding at once, one wins.
 * A deployment whose pass fails is reported and retried on the next tick; the others are not held up. Once a minute
 * it also folds old statistics rows together (`DeploymentService.compact`).
 */
import type { DeploymentService } from "./deployment-service.js";

export interface DeploymentControllerOptions {
  deployments: DeploymentService;
  /** How often deployments are looked at (default 500 ms). */
  tickMs?: number;
  /** How often statistics rows are compacted (default a minute). */
  compactEveryMs?: number;
  log?: (message: string, error: unknown) => void;
}

export class DeploymentController {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly tickMs: number;
  private readonly compactEveryMs: number;
  private lastCompaction = Date.now();

  constructor(private readonly options: DeploymentControllerOptions) {
    this.tickMs = options.tickMs ?? 500;
    this.compactEveryMs = options.compactEveryMs ?? 60_000;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.tickMs);
    this.timer.unref();
  }

  /** One pass over every active canary (tests call it directly). */
  async tick(): Promise<void> {
    let rows;
    try {
      rows = await this.options.deployments.activeCanaries();
    } catch (error) {
      this.options.log?.("deployments: cannot list active canaries", error);
      return;
    }
    for (const row of rows) {
      if (this.stopped) return;
      try {
        await this.options.deployments.evaluate(row);
      } catch (error) {
        this.options.log?.(`deployment ${row.name}: the canary pass failed`, error);
      }
    }
    if (Date.now() - this.lastCompaction >= this.compactEveryMs) {
      this.lastCompaction = Date.now();
      try {
        await this.options.deployments.compact();
      } catch (error) {
        this.options.log?.("deployments: compacting statistics failed", error);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
