/**
 * Data files for profiling and validation: `readTable` reads CSV, JSON Lines, JSON and Parquet into the
 * tables of `@slipway/ml`; profiles and expectations are read from and written to JSON files. The
 * library calls that work on tables (profile, derive expectations, validate) are re-exported from
 * `@slipway/ml`, so a client needs only the SDK.
 */
export * from "./read-table.js";
export * from "./documents.js";
export {
  datasetDrift,
  driftReportHtml,
  DRIFT_METHOD_NAMES,
  type ColumnDrift,
  type DatasetDrift,
  type DatasetDriftOptions,
  type DriftColumnType,
  type DriftFinding,
  expectationsFromProfile,
  mergeProfiles,
  parseExpectations,
  parseProfile,
  profileColumnTypes,
  profileTable,
  tableFromColumns,
  tableFromRecords,
  validateTable,
  type ColumnExpectations,
  type ColumnProfile,
  type DataProfile,
  type DeriveExpectationsOptions,
  type Expectations,
  type ProfileOptions,
  type Table,
  type TableColumnType,
  type TableExpectations,
  type ValidationReport,
  type ValidationResult,
} from "@slipway/ml";
