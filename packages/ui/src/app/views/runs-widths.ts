/**
 * The widths the person gave the runs table's columns, kept in localStorage (by column id, e.g.
 * `metrics.accuracy`) so they last across experiments and visits without lengthening every shared URL.
 */
import { MAX_COLUMN_WIDTH, MIN_COLUMN_WIDTH } from "./runs-table.js";
import type { RunColumn } from "./run-columns.js";

export type ColumnWidths = Readonly<Record<string, number>>;

const KEY = "slipway.runs.column-widths";

export function loadColumnWidths(): ColumnWidths {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    if (typeof value !== "object" || value === null) return {};
    const out: Record<string, number> = {};
    for (const [id, width] of Object.entries(value as Record<string, unknown>))
      if (typeof width === "number" && width >= MIN_COLUMN_WIDTH && width <= MAX_COLUMN_WIDTH) out[id] = width;
    return out;
  } catch {
    return {}; // storage blocked or a value from elsewhere: the default widths
  }
}

export function saveColumnWidths(widths: ColumnWidths): void {
  try {
    if (Object.keys(widths).length === 0) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, JSON.stringify(widths));
  } catch {
    // storage full or blocked: the widths last until the page is left
  }
}

export function withWidths(columns: RunColumn[], widths: ColumnWidths): RunColumn[] {
  return columns.map((c) => (widths[c.id] === undefined ? c : { ...c, width: widths[c.id]! }));
}
