/**
 * The canary policy, as a pure function of the deployment and the statistics of its current revision: roll back when
 * a limit is broken, step up by `step` once `interval_ms` has passed with at least `min_requests` canary requests and
 * the canary doing as well as the primary (within `CANARY_MATCH_TOLERANCE`), promote instead of stepping to 100%,
 * hold while it does worse — and roll back after `maxHeldIntervals` intervals held.
 *
 * Errors: the canary breaks its limit as soon as its errors exceed what the limit allows over `min_requests` (or over
 * its requests, when more): with a 1% limit and 100 minimum requests, the second error rolls back, however few
 * requests came — a canary that fails every request is gone within a report or two. Latency is judged on at least
 * `min_requests` requests (a p99 of ten requests is their maximum).
 */
import { CANARY_MATCH_TOLERANCE, DEPLOYMENT_LIMITS, type VersionStatsSummary } from "@slipway/protocol";
import { describeTraffic, millis, percent, roleTotals, weightText, type RoleTotals } from "./deployment-stats.js";
import type { CanarySettings } from "./deployment-store.js";

export type CanaryDecision =
  | { kind: "none" }
  | { kind: "rollback"; reason: string }
  | { kind: "hold"; reason: string }
  | { kind: "step"; to: number; reason: string }
  | { kind: "promote"; reason: string };

export interface CanaryStatus {
  settings: CanarySettings;
  version: string;
  weight: number;
  stepStartedAt: number;
  heldIntervals: number;
  stats: readonly VersionStatsSummary[];
  now: number;
}

/** `canary: 0.2% errors, p99 12 ms over 1,200 requests at 50%` */
export function canaryTraffic(canary: RoleTotals, weight: number): string {
  return `canary: ${describeTraffic(canary)} at ${weightText(weight)}`;
}

function primaryTraffic(primary: RoleTotals): string {
  return primary.requests === 0 ? "primary: no requests" : `primary: ${describeTraffic(primary)}`;
}

function lastError(t: RoleTotals): string {
  return t.lastError === undefined ? "" : `; last error: ${t.lastError}`;
}

/** Why the canary looks worse than the primary, or undefined when it matches or beats it. */
function worseThanPrimary(canary: RoleTotals, primary: RoleTotals): string | undefined {
  if (primary.requests === 0) return undefined;
  const tol = CANARY_MATCH_TOLERANCE;
  if (canary.errorRate > primary.errorRate + tol.errorRate) {
    return `error rate ${percent(canary.errorRate)} against the primary's ${percent(primary.errorRate)}`;
  }
  const judged = canary.requests >= tol.p99Requests && primary.requests >= tol.p99Requests;
  if (
    judged &&
    canary.p99 !== undefined &&
    primary.p99 !== undefined &&
    canary.p99 > primary.p99 * tol.p99Ratio + tol.p99Ms
  ) {
    return `p99 ${millis(canary.p99)} against the primary's ${millis(primary.p99)}`;
  }
  return undefined;
}

export function decideCanary(s: CanaryStatus): CanaryDecision {
  const { settings } = s;
  const canary = roleTotals(s.stats, "canary", s.version);
  const primary = roleTotals(s.stats, "primary");
  const traffic = canaryTraffic(canary, s.weight);

  const allowed = settings.max_error_rate * Math.max(canary.requests, settings.min_requests);
  if (canary.errors > 0 && canary.errors > allowed) {
    return {
      kind: "rollback",
      reason: `${traffic}: error rate above the limit of ${percent(settings.max_error_rate)} (${canary.errors} failed)${lastError(canary)}`,
    };
  }
  const enough = canary.requests >= settings.min_requests;
  if (enough && settings.max_latency_p99_ms !== undefined && canary.p99 !== undefined) {
    if (canary.p99 > settings.max_latency_p99_ms) {
      return {
        kind: "rollback",
        reason: `${traffic}: p99 above the limit of ${millis(settings.max_latency_p99_ms)}`,
      };
    }
  }
  const elapsed = s.now - s.stepStartedAt;
  if (!enough || settings.step <= 0 || elapsed < settings.interval_ms) return { kind: "none" };

  const worse = worseThanPrimary(canary, primary);
  if (worse !== undefined) {
    // judged once per interval: the n-th hold comes after n intervals at this weight
    if (elapsed < settings.interval_ms * (s.heldIntervals + 1)) return { kind: "none" };
    const held = s.heldIntervals + 1;
    if (held >= DEPLOYMENT_LIMITS.maxHeldIntervals) {
      return {
        kind: "rollback",
        reason: `${traffic}: worse than the primary for ${held} intervals (${worse}; ${primaryTraffic(primary)})`,
      };
    }
    return { kind: "hold", reason: `${traffic}: held at ${weightText(s.weight)}, ${worse}` };
  }
  const next = s.weight + settings.step;
  if (next >= 100) return { kind: "promote", reason: traffic };
  return {
    kind: "step",
    to: next,
    reason: `${traffic} (${primaryTraffic(primary)}): ${weightText(s.weight)} → ${weightText(next)}`,
  };
}
