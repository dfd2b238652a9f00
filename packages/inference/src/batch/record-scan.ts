/**
 * Finding whole records in the bytes of a CSV or JSON Lines file without decoding them, so that the
 * reading side can cut a file into blocks of N rows (and into chunks at record boundaries) at memchr-like
 * speed, and leave decoding to the prediction threads.
 *
 * - JSON Lines: a record is a line; lines holding only spaces, tabs or `\r` are blank and not rows.
 * - CSV: a record ends at `\n`, `\r\n` or a lone `\r` outside quotes. A quote opens a quoted field only
 *   at the start of a field; inside, `""` is a quote and a single `"` closes it (a quote elsewhere is
 *   text). Empty records are blank lines and not rows, as pandas skips them.
 *
 * A scan stops after `maxRows` rows, or at the last complete record of the bytes so far; at the end of
 * the file (`final`) a last record without a line break counts too (for CSV, also one whose quoted field
 * is never closed: the prediction thread then reports that row).
 */
import type { TextFormat } from "./block.js";

export interface ScanResult {
  /** Index just past the last record taken (the start of the next one). */
  readonly end: number;
  /** Rows taken (blank lines are not rows). */
  readonly rows: number;
  /** Line breaks in `[from, end)`, including those inside quoted CSV fields. */
  readonly lines: number;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;

export function scanRecords(
  format: TextFormat,
  bytes: Uint8Array,
  from: number,
  maxRows: number,
  final: boolean,
): ScanResult {
  return format === "csv" ? scanCsv(bytes, from, maxRows, final) : scanLines(bytes, from, maxRows, final);
}

function isBlankLine(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== CR) return false;
  }
  return true;
}

function scanLines(bytes: Uint8Array, from: number, maxRows: number, final: boolean): ScanResult {
  const n = bytes.length;
  let i = from;
  let rows = 0;
  let lines = 0;
  while (rows < maxRows && i < n) {
    const nl = bytes.indexOf(LF, i);
    if (nl === -1) {
      if (!final) break;
      if (!isBlankLine(bytes, i, n)) rows++;
      i = n;
      break;
    }
    if (!isBlankLine(bytes, i, nl)) rows++;
    lines++;
    i = nl + 1;
  }
  return { end: i, rows, lines };
}

function scanCsv(bytes: Uint8Array, from: number, maxRows: number, final: boolean): ScanResult {
  const n = bytes.length;
  let i = from;
  let rows = 0;
  let lines = 0;
  while (rows < maxRows && i < n) {
    let j = i;
    let quoted = false;
    let fieldStart = true;
    let empty = true;
    let breaks = 0;
    let complete = false;
    let needMore = false;
    while (j < n) {
      const c = bytes[j]!;
      if (quoted) {
        if (c === QUOTE) {
          if (j + 1 >= n && !final) {
            needMore = true;
            break;
          }
          if (bytes[j + 1] === QUOTE) j += 2;
          else {
            quoted = false;
            j++;
          }
          continue;
        }
        if (c === LF) breaks++;
        j++;
        continue;
      }
      if (c === LF) {
        breaks++;
        j++;
        complete = true;
        break;
      }
      if (c === CR) {
        if (j + 1 >= n && !final) {
          needMore = true;
          break;
        }
        j += bytes[j + 1] === LF ? 2 : 1;
        breaks++;
        complete = true;
        break;
      }
      empty = false;
      if (c === QUOTE && fieldStart) quoted = true;
      fieldStart = c === COMMA;
      j++;
    }
    if (needMore || (!complete && !final)) break;
    // complete, or the file's last record (without a line break, or with a quote never closed)
    if (!empty) rows++;
    lines += breaks;
    i = j;
  }
  return { end: i, rows, lines };
}
