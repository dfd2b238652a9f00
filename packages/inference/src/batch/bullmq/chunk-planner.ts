/**
 * Cutting an input into chunks of about `chunkRows` rows for the workers: Parquet by row numbers (from
 * the footer, nothing read), CSV and JSON Lines by one streaming pass that finds the byte offset of every
 * `chunkRows`-th record boundary (`record-scan.ts`) without keeping more than one 1 MiB piece. Chunks
 * come out as they are found, so the first ones can be enqueued while the file is still being scanned.
 */
import { createReadStream } from "node:fs";
import { BatchError } from "../batch-error.js";
import type { InputRange } from "../input-blocks.js";
import type { InputInfo } from "../input-info.js";
import { scanRecords } from "../record-scan.js";

export interface PlannedChunk {
  readonly range: InputRange;
  /** Rows in the chunk. */
  readonly rows: number;
  /** Work units for progress: bytes (text) or rows (Parquet). */
  readonly units: number;
}

export async function* planChunks(info: InputInfo, chunkRows: number): AsyncGenerator<PlannedChunk> {
  if (info.parquet) {
    for (let start = 0; start < info.parquet.rows; start += chunkRows) {
      const end = Math.min(info.parquet.rows, start + chunkRows);
      yield { range: { kind: "rows", start, end }, rows: end - start, units: end - start };
    }
    return;
  }
  const format = info.format;
  if (format === "parquet") throw new Error(`${info.path}: a Parquet input without its layout`);
  let chunkStart = info.dataStart;
  let firstRow = 0;
  let firstLine = info.dataLine;
  // bytes of the file from `offset` on that are not yet part of a chunk
  let pending: Buffer = Buffer.alloc(0);
  let offset = info.dataStart;
  let scanned = 0;
  let rows = 0;
  let lines = 0;
  const cut = (): PlannedChunk => {
    const end = offset + scanned;
    const chunk: PlannedChunk = {
      range: { kind: "bytes", start: chunkStart, end, firstRow, firstLine },
      rows,
      units: end - chunkStart,
    };
    chunkStart = end;
    firstRow += rows;
    firstLine += lines;
    rows = 0;
    lines = 0;
    return chunk;
  };
  const consume = (scanEnd: number) => {
    // keep only the part of the buffer past the last whole record
    offset += scanEnd;
    pending = pending.subarray(scanEnd);
    scanned = 0;
  };
  if (info.size > info.dataStart) {
    const stream = createReadStream(info.path, { start: info.dataStart, highWaterMark: 1 << 20 });
    try {
      for await (const piece of stream as AsyncIterable<Buffer>) {
        pending = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
        for (;;) {
          const scan = scanRecords(format, pending, 0, chunkRows - rows, false);
          scanned = scan.end;
          rows += scan.rows;
          lines += scan.lines;
          const full = rows >= chunkRows;
          if (full) yield cut();
          consume(scan.end);
          if (!full) break;
        }
      }
    } catch (error) {
      throw new BatchError(`${info.path}: cannot read: ${(error as Error).message}`, { cause: error });
    }
  }
  for (;;) {
    const scan = scanRecords(format, pending, 0, chunkRows - rows, true);
    scanned = scan.end;
    rows += scan.rows;
    lines += scan.lines;
    if (rows > 0) yield cut();
    consume(scan.end);
    if (pending.length === 0) break;
  }
}
