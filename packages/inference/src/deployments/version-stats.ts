/**
 * What a model server counts for its deployment between two reports: per (revision, role, version), requests,
 * failures, a latency histogram (bounds shared with the control plane: `DEPLOYMENT_LATENCY_BOUNDS_MS`) and, for the
 * shadow, rows compared and agreed and copies dropped. Counts are tagged with the revision the server routed with,
 * so the control plane judges a canary only on traffic at its current weight. `drain()` hands the counts over and
 * starts afresh.
 */
import { emptyLatencyBuckets, latencyBucket, type DeploymentRole, type VersionStatsEntry } from "@slipway/protocol";
import type { Outcome } from "./deployment-metrics.js";

interface Slot {
  revision: number;
  role: DeploymentRole;
  version: string;
  requests: number;
  errors: number;
  clientErrors: number;
  latency: number[];
  lastError: string | undefined;
  compared: number;
  agreed: number;
  dropped: number;
}

/** Longest error message kept for a report. */
const MAX_ERROR_TEXT = 500;

export class VersionStats {
  private slots = new Map<string, Slot>();

  private slot(revision: number, role: DeploymentRole, version: string): Slot {
    const key = `${revision}\u0000${role}\u0000${version}`;
    let s = this.slots.get(key);
    if (!s) {
      s = {
        revision,
        role,
        version,
        requests: 0,
        errors: 0,
        clientErrors: 0,
        latency: emptyLatencyBuckets(),
        lastError: undefined,
        compared: 0,
        agreed: 0,
        dropped: 0,
      };
      this.slots.set(key, s);
    }
    return s;
  }

  /** One request a version answered (or failed), and how long it took. */
  record(revision: number, role: DeploymentRole, version: string, outcome: Outcome, ms: number, error?: string): void {
    const s = this.slot(revision, role, version);
    s.requests += 1;
    if (outcome === "error") s.errors += 1;
    else if (outcome === "client_error") s.clientErrors += 1;
    s.latency[latencyBucket(ms)]! += 1;
    if (error !== undefined) s.lastError = error.length > MAX_ERROR_TEXT ? `${error.slice(0, MAX_ERROR_TEXT)}…` : error;
  }

  /** Shadow rows compared with the primary's answer. */
  compared(revision: number, version: string, rows: number, agreed: number): void {
    const s = this.slot(revision, "shadow", version);
    s.compared += rows;
    s.agreed += agreed;
  }

  /** A copy the shadow's queue had no room for. */
  dropped(revision: number, version: string): void {
    this.slot(revision, "shadow", version).dropped += 1;
  }

  /** Adds back the counts of a report that was not delivered. */
  merge(e: VersionStatsEntry): void {
    const s = this.slot(e.revision, e.role, e.version);
    s.requests += e.requests;
    s.errors += e.errors;
    s.clientErrors += e.client_errors;
    for (let i = 0; i < s.latency.length; i++) s.latency[i]! += e.latency_ms[i] ?? 0;
    s.lastError ??= e.last_error;
    s.compared += e.compared_rows ?? 0;
    s.agreed += e.agreed_rows ?? 0;
    s.dropped += e.dropped ?? 0;
  }

  /** The counts since the last drain, as report entries; starts afresh. */
  drain(): VersionStatsEntry[] {
    const slots = this.slots;
    this.slots = new Map();
    const out: VersionStatsEntry[] = [];
    for (const s of slots.values()) {
      if (s.requests === 0 && s.dropped === 0 && s.compared === 0) continue;
      out.push({
        revision: s.revision,
        role: s.role,
        version: s.version,
        requests: s.requests,
        errors: s.errors,
        client_errors: s.clientErrors,
        latency_ms: s.latency,
        ...(s.lastError === undefined ? {} : { last_error: s.lastError }),
        ...(s.role === "shadow" ? { compared_rows: s.compared, agreed_rows: s.agreed, dropped: s.dropped } : {}),
      });
    }
    return out;
  }
}
