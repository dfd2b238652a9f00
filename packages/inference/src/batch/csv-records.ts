/**
 * CSV on the prediction threads: splitting a block's text into records of fields (by the same rules
 * `record-scan.ts` cuts blocks with, so both always agree on where a row starts), and writing values as
 * CSV fields.
 *
 * Reading: a field that starts with `"` is quoted (`""` inside is a quote; text after the closing quote is
 * kept, as Python's csv module keeps it); a quote elsewhere is text; empty records are skipped. A quoted
 * field still open at the block's end is an error of that row. Values stay text: the signature's column
 * types parse them (`build-batch.ts`).
 *
 * Writing: null, undefined and NaN are empty fields; text holding a comma, quote, line break or leading or
 * trailing space is quoted; lists and objects are written as JSON text.
 */

export interface CsvRecord {
  readonly fields: string[];
  /** The 1-based line the record starts on, counted from the block's first line. */
  readonly line: number;
  /** Set when the record is malformed (an unterminated quoted field). */
  readonly problem?: string;
}

/** The non-empty records of `text`, whose first line is line `firstLine` of the file. */
export function parseCsvRecords(text: string, firstLine: number): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = firstLine;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let fieldStart = true;
    let empty = true;
    let problem: string | undefined;
    let ended = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22 && fieldStart) {
        // quoted field
        empty = false;
        fieldStart = false;
        i++;
        let closed = false;
        while (i < n) {
          const q = text.indexOf('"', i);
          if (q === -1) {
            field += text.slice(i);
            line += countBreaks(text, i, n);
            i = n;
            break;
          }
          field += text.slice(i, q);
          line += countBreaks(text, i, q);
          if (text.charCodeAt(q + 1) === 0x22) {
            field += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          closed = true;
          break;
        }
        if (!closed) problem = `a quoted field opened on line ${startLine} is never closed`;
        continue;
      }
      if (c === 0x2c) {
        fields.push(field);
        field = "";
        fieldStart = true;
        empty = false;
        i++;
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        i += c === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
        line++;
        ended = true;
        break;
      }
      // a run of plain text up to the next special character
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x2c || d === 0x0a || d === 0x0d) break;
        j++;
      }
      field += text.slice(i, j);
      fieldStart = false;
      empty = false;
      i = j;
    }
    if (empty) continue;
    fields.push(field);
    records.push(problem === undefined ? { fields, line: startLine } : { fields, line: startLine, problem });
    if (!ended) break;
  }
  return records;
}

function countBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf("\n", from); i !== -1 && i < to; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One value as a CSV field. */
export function csvField(value: unknown): string {
  let text: string;
  switch (typeof value) {
    case "string":
      text = value;
      break;
    case "number":
      return Number.isNaN(value) ? "" : String(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "";
    default:
      if (value === null) return "";
      text = JSON.stringify(value, jsonReplacer);
  }
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** JSON.stringify's replacer for values JSON has no spelling of: bigints as numbers (or text beyond 2^53). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}
