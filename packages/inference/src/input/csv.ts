/**
 * CSV request bodies (MLflow's `text/csv`, as `DataFrame.to_csv(index=False)` writes them): a header row
 * of column names, then one row per record; fields may be quoted (`"a, b"`, `""` for a quote inside),
 * lines end in LF or CRLF, a trailing newline is optional, blank lines are skipped (as pandas skips them). Values stay text here; the column converters
 * parse them by the signature's types.
 */
import { badInput } from "../errors.js";
import type { RawColumns } from "./raw-input.js";

/** Parses CSV text into columns of strings. Throws a 400 for a malformed table. */
export function parseCsv(text: string): RawColumns {
  const records = parseRecords(text);
  const header = records[0];
  if (!header || (header.length === 1 && header[0] === "")) {
    throw badInput("The CSV input is empty; it needs a header row of column names and at least one row");
  }
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw badInput(`The CSV header names column '${name}' twice`);
    seen.add(name);
  }
  const rows = records.length - 1;
  const columns = header.map(() => new Array<string>(rows));
  for (let r = 0; r < rows; r++) {
    const record = records[r + 1]!;
    if (record.length !== header.length) {
      throw badInput(
        `CSV row ${r + 1} (line ${r + 2}) has ${record.length} field${record.length === 1 ? "" : "s"} where the header has ${header.length}`,
      );
    }
    for (let c = 0; c < header.length; c++) columns[c]![r] = record[c]!;
  }
  return { form: "columns", rows, columns: new Map(header.map((name, c) => [name, columns[c]!])), text: true };
}

function parseRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  const n = text.length;
  let quotedField = false;
  // skip a UTF-8 byte order mark
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const c = text[i]!;
    if (c === '"' && field === "" && !quotedField) {
      // a quoted field: up to the closing quote, "" standing for one quote
      quotedField = true;
      i++;
      for (;;) {
        if (i >= n) throw badInput(`The CSV input has an unterminated quoted field (row ${records.length})`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += q;
        i++;
      }
      if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        throw badInput(`The CSV input has text after a closing quote (row ${records.length})`);
      }
      continue;
    }
    if (c === ",") {
      record.push(field);
      field = "";
      quotedField = false;
      i++;
    } else if (c === "\n" || c === "\r") {
      record.push(field);
      // blank lines are skipped, as pandas skips them
      if (record.length > 1 || field !== "" || quotedField) records.push(record);
      record = [];
      field = "";
      quotedField = false;
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== "" || quotedField || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}
