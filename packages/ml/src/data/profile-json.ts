/**
 * Reading a data profile back from JSON (`parseProfile`): every field is checked, sketches and summaries
 * completely, and errors name the field, e.g. `columns.age.count: must be a non-negative integer, got -1`.
 * Fields this version does not know are ignored, so newer writers stay readable.
 */
import { MlError } from "../core/errors.js";
import { CategoryCounts } from "./category-counts.js";
import { DistinctCount } from "./distinct-count.js";
import {
  checkArray,
  checkBoolean,
  checkCount,
  checkLiteral,
  checkObject,
  checkString,
  describeJsonValue,
} from "./json-check.js";
import { checkNumericSummary } from "./numeric-summary.js";
import { PROFILE_VERSION, type DataProfile } from "./profile.js";
import { TABLE_COLUMN_TYPES } from "./table.js";

/** Parses JSON text, naming the document when it is not JSON. */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MlError(`${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function checkTop(json: unknown, path: string, valueKey: string, countKey: string): void {
  checkArray(json, path).forEach((entry, i) => {
    const o = checkObject(entry, `${path}[${i}]`);
    checkString(o[valueKey], `${path}[${i}].${valueKey}`);
    checkCount(o[countKey], `${path}[${i}].${countKey}`);
  });
}

function checkColumn(json: unknown, path: string, rowCount: number): void {
  const o = checkObject(json, path);
  const type = checkLiteral(o.type, TABLE_COLUMN_TYPES, `${path}.type`);
  const count = checkCount(o.count, `${path}.count`);
  const missing = checkCount(o.missing, `${path}.missing`);
  const invalid = checkCount(o.invalid, `${path}.invalid`);
  if (count + missing !== rowCount) {
    throw new MlError(`${path}: count (${count}) + missing (${missing}) must equal rowCount (${rowCount})`);
  }
  if (invalid > count) throw new MlError(`${path}: invalid (${invalid}) must not exceed count (${count})`);
  checkCount(o.distinct, `${path}.distinct`);
  checkBoolean(o.distinctExact, `${path}.distinctExact`);
  DistinctCount.fromJSON(o.distinctSketch, `${path}.distinctSketch`);
  switch (type) {
    case "number":
      checkNumericSummary(o, path);
      break;
    case "boolean":
      checkCount(o.trueCount, `${path}.trueCount`);
      checkCount(o.falseCount, `${path}.falseCount`);
      break;
    case "string":
      checkTop(o.top, `${path}.top`, "value", "count");
      CategoryCounts.fromJSON(o.categories, `${path}.categories`);
      break;
    case "text": {
      checkNumericSummary(o.chars, `${path}.chars`);
      checkNumericSummary(o.tokens, `${path}.tokens`);
      const v = checkObject(o.vocabulary, `${path}.vocabulary`);
      checkCount(v.size, `${path}.vocabulary.size`);
      checkBoolean(v.sizeExact, `${path}.vocabulary.sizeExact`);
      checkCount(v.tokenCount, `${path}.vocabulary.tokenCount`);
      checkTop(v.top, `${path}.vocabulary.top`, "token", "documents");
      DistinctCount.fromJSON(v.distinct, `${path}.vocabulary.distinct`);
      CategoryCounts.fromJSON(v.documentFrequencies, `${path}.vocabulary.documentFrequencies`);
      break;
    }
    case "missing":
      break;
  }
}

/** Checks a profile (a parsed document, or its JSON text) and returns it typed. */
export function parseProfile(json: unknown): DataProfile {
  const document = typeof json === "string" ? parseJsonText(json, "profile") : json;
  const o = checkObject(document, "profile");
  if (o.version !== PROFILE_VERSION) {
    throw new MlError(
      `version: must be ${PROFILE_VERSION}, got ${describeJsonValue(o.version)} (not a data profile, or a newer one)`,
    );
  }
  const rowCount = checkCount(o.rowCount, "rowCount");
  const columns = checkObject(o.columns, "columns");
  for (const [name, column] of Object.entries(columns)) checkColumn(column, `columns.${name}`, rowCount);
  return document as DataProfile;
}
