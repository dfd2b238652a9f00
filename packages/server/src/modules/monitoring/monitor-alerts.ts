/**
 * Alert rules on a window's result: each rule gives a value and whether its condition holds (`active`), or null
 * when the window cannot say (no labels yet, an empty window for a drift rule): the alert then keeps its state.
 *
 * | when             | value                                                          | default condition         |
 * | ---------------- | -------------------------------------------------------------- | ------------------------- |
 * | `dataset_drift`  | 1 when the input features drifted as a dataset, else 0         | `>= 1`                    |
 * | `drift_share`    | share of tested input features that drifted                    | `>= threshold` (required) |
 * | `feature_drift`  | without `feature`: how many features drifted                   | `>= 1`                    |
 * |                  | with `feature`: 1 when it drifted, else 0                      | `>= 1`                    |
 * |                  | with `feature` and `threshold`: the feature's deciding score   | the method's own side     |
 * | `metric_drop`    | baseline − value of `metric` (labelled rows ≥ min_labels)      | `> metrics.max_drop`      |
 * | `latency_p99_ms` | p99 of the rows' latency_ms                                    | `> threshold` (required)  |
 * | `min_rows`       | rows in the window                                             | `< threshold` (required)  |
 * | `error_rate`     | share of the window's logged requests answered with a 5xx      | `> threshold` (required)  |
 */
import type {
  AlertCheck,
  AlertOp,
  AlertRule,
  DriftSummary,
  ErrorSummary,
  LatencySummary,
  PerformanceSummary,
} from "@slipway/protocol";
import { DEFAULT_MAX_DROP } from "./monitor-performance.js";

export interface AlertInputs {
  rows: number;
  featureDrift?: DriftSummary;
  performance?: PerformanceSummary;
  latency?: LatencySummary;
  errors?: ErrorSummary;
  maxDrop?: number;
}

const DEFAULT_OPS: Record<AlertRule["when"], AlertOp> = {
  dataset_drift: ">=",
  drift_share: ">=",
  feature_drift: ">=",
  metric_drop: ">",
  latency_p99_ms: ">",
  min_rows: "<",
  error_rate: ">",
};

export function compare(value: number, op: AlertOp, threshold: number): boolean {
  switch (op) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
  }
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, "");
}

function unknown(rule: AlertRule, why: string): AlertCheck {
  return { rule: rule.name, value: null, active: null, message: `${rule.name}: unknown (${why})` };
}

function decided(rule: AlertRule, value: number, op: AlertOp, threshold: number, what: string): AlertCheck {
  const active = compare(value, op, threshold);
  return {
    rule: rule.name,
    value,
    active,
    message: `${what} is ${fmt(value)} (alert when ${op} ${fmt(threshold)})`,
  };
}

/** One rule's value and condition on a window's result. */
export function checkAlert(rule: AlertRule, inputs: AlertInputs): AlertCheck {
  const drift = inputs.featureDrift;
  switch (rule.when) {
    case "dataset_drift": {
      if (drift === undefined) return unknown(rule, "no feature drift was computed for this window");
      return decided(
        rule,
        drift.dataset_drift ? 1 : 0,
        rule.op ?? DEFAULT_OPS.dataset_drift,
        rule.threshold ?? 1,
        `dataset drift (${drift.drifted_columns} of ${drift.tested_columns} features drifted)`,
      );
    }
    case "drift_share": {
      if (drift === undefined) return unknown(rule, "no feature drift was computed for this window");
      return decided(rule, drift.share, rule.op ?? DEFAULT_OPS.drift_share, rule.threshold!, "drift share");
    }
    case "feature_drift": {
      if (drift === undefined) return unknown(rule, "no feature drift was computed for this window");
      if (rule.feature === undefined) {
        return decided(
          rule,
          drift.drifted_columns,
          rule.op ?? DEFAULT_OPS.feature_drift,
          rule.threshold ?? 1,
          "drifted features",
        );
      }
      const column = drift.columns.find((c) => c.column === rule.feature);
      if (column === undefined) return unknown(rule, `feature '${rule.feature}' is not compared`);
      if (column.drift === null || column.score === null) {
        return unknown(rule, `feature '${rule.feature}' could not be tested`);
      }
      if (rule.threshold === undefined) {
        return decided(rule, column.drift ? 1 : 0, rule.op ?? ">=", 1, `drift of '${rule.feature}' (${column.test})`);
      }
      const side = (column.comparison ?? ">") as AlertOp;
      return decided(rule, column.score, rule.op ?? side, rule.threshold, `${column.test} score of '${rule.feature}'`);
    }
    case "metric_drop": {
      const metric = rule.metric!;
      const summary = inputs.performance?.metrics[metric];
      if (summary === undefined || summary.drop === null) {
        return unknown(rule, `no ${metric} and baseline for this window`);
      }
      if (summary.degraded === null) return unknown(rule, "too few labelled rows to compare with the baseline");
      return decided(
        rule,
        summary.drop,
        rule.op ?? DEFAULT_OPS.metric_drop,
        rule.threshold ?? inputs.maxDrop ?? DEFAULT_MAX_DROP,
        `${metric} drop (baseline ${fmt(summary.baseline!)}, now ${fmt(summary.value!)})`,
      );
    }
    case "latency_p99_ms": {
      if (inputs.latency === undefined) return unknown(rule, "no row of the window has latency_ms");
      return decided(
        rule,
        inputs.latency.p99_ms,
        rule.op ?? DEFAULT_OPS.latency_p99_ms,
        rule.threshold!,
        "p99 latency (ms)",
      );
    }
    case "min_rows":
      return decided(rule, inputs.rows, rule.op ?? DEFAULT_OPS.min_rows, rule.threshold!, "rows in the window");
    case "error_rate": {
      const errors = inputs.errors;
      if (errors === undefined) return unknown(rule, "no request was logged in this window");
      return decided(
        rule,
        errors.error_rate,
        rule.op ?? DEFAULT_OPS.error_rate,
        rule.threshold!,
        `5xx error rate (${errors.server_errors} of ${errors.requests} requests)`,
      );
    }
  }
}

export function checkAlerts(rules: readonly AlertRule[], inputs: AlertInputs): AlertCheck[] {
  return rules.map((rule) => checkAlert(rule, inputs));
}
