/**
 * Data profiles and data validation: tables, mergeable sketches (quantiles, histograms, category counts,
 * distinct counts), profiles of tables, and expectations derived from profiles and checked against data.
 */
export * from "./table.js";
export * from "./sketch.js";
export * from "./histogram.js";
export * from "./category-counts.js";
export * from "./distinct-count.js";
export { hashValue } from "./hash.js";
export { SUMMARY_QUANTILES, type NumericSummary, type QuantileName } from "./numeric-summary.js";
export * from "./profile.js";
export { parseProfile } from "./profile-json.js";
export * from "./expectations.js";
export * from "./validate-table.js";
