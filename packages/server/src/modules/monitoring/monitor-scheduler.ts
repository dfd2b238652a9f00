/**
 * Runs monitors on their cron schedules inside the server process. Every `tickMs` it looks, for each enabled
 * monitor, at the latest tick of its schedule at or before now, and evaluates the window ending there unless that
 * window is already done. So after downtime only the latest missed tick is evaluated, not every one.
 *
 * Several replicas may run schedulers on one database: each window is claimed by an INSERT on the unique key
 * (monitor, window_end) before it is evaluated (`MonitorService.evaluateScheduled`), and only the replica whose
 * INSERT succeeded evaluates it. Ticks before a monitor was created are not evaluated. A monitor that fails is
 * logged and the others go on.
 */
import { parseCron, type CronSchedule } from "./cron.js";
import type { MonitorService } from "./monitor-service.js";

export interface MonitorSchedulerOptions {
  /** How often schedules are checked, ms (default 5 000). */
  tickMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface MonitorSchedulerDeps extends MonitorSchedulerOptions {
  monitors: MonitorService;
  log?: (message: string, error: unknown) => void;
}

/** What one tick did for one monitor. */
export interface TickOutcome {
  monitor: string;
  window_end: number;
  /** evaluated here; claimed elsewhere (or done before); failed (see the log). */
  result: "evaluated" | "claimed" | "failed";
}

export class MonitorScheduler {
  private readonly tickMs: number;
  private readonly now: () => number;
  private readonly schedules = new Map<string, CronSchedule>();
  /** The last window end evaluated here per monitor id, so a tick does not try to claim it again. */
  private readonly done = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<TickOutcome[]> | undefined;
  private stopped = false;

  constructor(private readonly deps: MonitorSchedulerDeps) {
    this.tickMs = deps.tickMs ?? 5000;
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops ticking and waits for the evaluation in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
  }

  /** One pass over the enabled monitors (the timer calls it; tests call it with a fixed clock). */
  async tick(): Promise<TickOutcome[]> {
    if (this.ticking !== undefined) return this.ticking;
    this.ticking = this.pass().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private schedule(expression: string): CronSchedule {
    let schedule = this.schedules.get(expression);
    if (schedule === undefined) {
      schedule = parseCron(expression);
      if (this.schedules.size > 1000) this.schedules.clear();
      this.schedules.set(expression, schedule);
    }
    return schedule;
  }

  private async pass(): Promise<TickOutcome[]> {
    const outcomes: TickOutcome[] = [];
    let monitors;
    try {
      monitors = await this.deps.monitors.enabledMonitors();
    } catch (error) {
      this.deps.log?.("monitor scheduler: cannot list the monitors", error);
      return outcomes;
    }
    const now = this.now();
    for (const monitor of monitors) {
      if (this.stopped) break;
      try {
        const due = this.schedule(monitor.def.schedule).previous(now);
        if (due === undefined || due < monitor.created) continue;
        if (this.done.get(monitor.id) === due) continue;
        const evaluated = await this.deps.monitors.evaluateScheduled(monitor, due);
        // a window claimed elsewhere is looked at again next tick: its claim may go stale (a replica died)
        if (evaluated) this.done.set(monitor.id, due);
        outcomes.push({ monitor: monitor.def.name, window_end: due, result: evaluated ? "evaluated" : "claimed" });
      } catch (error) {
        this.deps.log?.(`monitor ${monitor.def.name}: scheduled evaluation failed`, error);
        outcomes.push({ monitor: monitor.def.name, window_end: NaN, result: "failed" });
      }
    }
    return outcomes;
  }
}
