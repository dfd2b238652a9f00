/**
 * JSON Lines on the prediction threads: a block's text as one record per non-blank line. A line that is
 * not JSON, or not a JSON object, is an error of that row (the line is kept as text, so nothing is lost).
 */

export interface JsonlRecord {
  /** The parsed object, or undefined when the line is not one. */
  readonly value?: Readonly<Record<string, unknown>>;
  /** The line as text (for the errors file) when it could not be read. */
  readonly text?: string;
  readonly line: number;
  readonly problem?: string;
}

const BLANK = /^[ \t\r]*$/;

export function parseJsonlRecords(text: string, firstLine: number): JsonlRecord[] {
  const records: JsonlRecord[] = [];
  let line = firstLine;
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = n;
    const source = text.slice(start, end);
    if (!BLANK.test(source)) records.push(parseLine(source, line));
    line++;
    start = end + 1;
  }
  return records;
}

function parseLine(source: string, line: number): JsonlRecord {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    return { text: source, line, problem: `not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { text: source, line, problem: `expected a JSON object, got ${kind}` };
  }
  return { value: value as Record<string, unknown>, line };
}
