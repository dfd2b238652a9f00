/**
 * Reading an input file (or one chunk of it) as blocks of `batchSize` rows, streamed: CSV and JSON Lines
 * are read in 1 MiB pieces and cut at record boundaries (`record-scan.ts`) without being decoded, so the
 * bytes go to a prediction thread as they are; Parquet is read one row group at a time (only the columns
 * asked for) and cut into blocks of decoded values. Memory holds one piece plus one block (text) or one
 * row group's columns (Parquet), whatever the file's size.
 */
import { createReadStream } from "node:fs";
import { asyncBufferFromFile, parquetScan, type ParquetScan } from "hyparquet";
import { BatchError } from "./batch-error.js";
import type { InputBlock, TextFormat } from "./block.js";
import type { InputInfo } from "./input-info.js";
import { scanRecords } from "./record-scan.js";

/** A byte range of a text file that starts and ends at record boundaries. */
export interface TextRange {
  readonly kind: "bytes";
  readonly start: number;
  readonly end: number;
  /** The row number and the line of the range's first byte. */
  readonly firstRow: number;
  readonly firstLine: number;
}

/** Rows `[start, end)` of a Parquet file. */
export interface RowRange {
  readonly kind: "rows";
  readonly start: number;
  readonly end: number;
}

export type InputRange = TextRange | RowRange;

export interface ReadBlocksOptions {
  readonly batchSize: number;
  /** Default: the whole file. */
  readonly range?: InputRange;
  /** Parquet: the columns to read (default all). */
  readonly columns?: readonly string[];
}

const PIECE_BYTES = 1 << 20;

/** The range that covers the whole file. */
export function wholeRange(info: InputInfo): InputRange {
  if (info.parquet) return { kind: "rows", start: 0, end: info.parquet.rows };
  return { kind: "bytes", start: info.dataStart, end: info.size, firstRow: 0, firstLine: info.dataLine };
}

export function readBlocks(info: InputInfo, options: ReadBlocksOptions): AsyncGenerator<InputBlock> {
  const range = options.range ?? wholeRange(info);
  if (info.format === "parquet") {
    if (range.kind !== "rows") throw new Error("a Parquet input is read by row ranges");
    return readParquetBlocks(info, range, options);
  }
  if (range.kind !== "bytes") throw new Error("a text input is read by byte ranges");
  return readTextBlocks(info.path, info.format, range, options.batchSize);
}

async function* readTextBlocks(
  path: string,
  format: TextFormat,
  range: TextRange,
  batchSize: number,
): AsyncGenerator<InputBlock> {
  let index = 0;
  let firstRow = range.firstRow;
  let firstLine = range.firstLine;
  let pending: Buffer = Buffer.alloc(0);
  let scanned = 0;
  let rows = 0;
  let lines = 0;
  const take = (): InputBlock => {
    const block: InputBlock = {
      kind: "text",
      format,
      index: index++,
      firstRow,
      rows,
      firstLine,
      bytes: new Uint8Array(pending.subarray(0, scanned)),
    };
    firstRow += rows;
    firstLine += lines;
    pending = pending.subarray(scanned);
    scanned = 0;
    rows = 0;
    lines = 0;
    return block;
  };
  if (range.end > range.start) {
    const stream = createReadStream(path, { start: range.start, end: range.end - 1, highWaterMark: PIECE_BYTES });
    try {
      for await (const piece of stream as AsyncIterable<Buffer>) {
        pending = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
        for (;;) {
          const scan = scanRecords(format, pending, scanned, batchSize - rows, false);
          scanned = scan.end;
          rows += scan.rows;
          lines += scan.lines;
          if (rows < batchSize) break;
          yield take();
        }
      }
    } catch (error) {
      throw new BatchError(`${path}: cannot read: ${(error as Error).message}`, { cause: error });
    }
  }
  while (scanned < pending.length || rows > 0) {
    const scan = scanRecords(format, pending, scanned, batchSize - rows, true);
    scanned = scan.end;
    rows += scan.rows;
    lines += scan.lines;
    if (rows === 0) break;
    yield take();
  }
}

async function* readParquetBlocks(
  info: InputInfo,
  range: RowRange,
  options: ReadBlocksOptions,
): AsyncGenerator<InputBlock> {
  const layout = info.parquet!;
  const columns = options.columns ?? info.columns;
  let scan: ParquetScan;
  try {
    const file = await asyncBufferFromFile(info.path);
    scan = await parquetScan({ file, metadata: layout.metadata, columns: [...columns] });
  } catch (error) {
    throw new BatchError(`${info.path}: not a readable Parquet file: ${(error as Error).message}`, { cause: error });
  }
  let index = 0;
  for (const group of layout.groups) {
    const start = Math.max(group.start, range.start);
    const end = Math.min(group.end, range.end);
    if (start >= end) continue;
    const data = new Map<string, ArrayLike<unknown>>();
    for (const column of columns) {
      try {
        data.set(column, await scan.readColumn({ column, rowStart: start, rowEnd: end }));
      } catch (error) {
        throw new BatchError(
          `${info.path}: cannot read column '${column}' of rows ${start}..${end - 1}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    for (let from = start; from < end; from += options.batchSize) {
      const to = Math.min(end, from + options.batchSize);
      const block: Record<string, unknown[]> = {};
      for (const [column, values] of data) {
        const part = new Array<unknown>(to - from);
        for (let r = from; r < to; r++) part[r - from] = values[r - start];
        block[column] = part;
      }
      yield { kind: "columns", index: index++, firstRow: from, rows: to - from, columns: block };
    }
  }
}
