/**
 * Parquet output (`hyparquet-writer`), streamed: the blocks' columns are gathered into row groups of
 * `ROW_GROUP_ROWS` rows, each encoded and written as soon as it is full, so memory holds one row group.
 * The schema comes from the first block with rows (every column optional); a later value that does not
 * fit its column's type (a kept input column whose type changes between rows) is a `BatchError` naming
 * the column and the row.
 */
import { ByteWriter, ParquetWriter, schemaFromColumnData, type ColumnSource } from "hyparquet-writer";
import { AtomicFile } from "./atomic-file.js";
import { BatchError } from "./batch-error.js";
import type { BlockResult, OutputColumnType } from "./block.js";
import { sameColumns, type OutputSink, type OutputSinkOptions } from "./sink.js";

/** Rows per row group. */
export const ROW_GROUP_ROWS = 65_536;

/** A ByteWriter whose `flush` hands the bytes so far to the file (asynchronously, in order). */
class FileByteWriter extends ByteWriter {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: AtomicFile) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    this.writing = this.writing.then(() => this.file.write(bytes));
    return this.writing;
  }
}

interface Gathered {
  name: string;
  type: OutputColumnType;
  values: unknown[];
}

/** A value converted to its column's Parquet type, or undefined when it does not fit. */
function fit(value: unknown, type: OutputColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "STRING":
      return typeof value === "string" ? value : typeof value === "bigint" ? value.toString() : undefined;
    case "JSON":
      return value;
    case "DOUBLE":
    case "FLOAT":
      return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
    case "INT64":
      return typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value as number) : undefined;
    case "BOOLEAN":
      return typeof value === "boolean" ? value : undefined;
  }
}

class ParquetSink implements OutputSink {
  columnNames: readonly string[] | undefined;
  private gathered: Gathered[] | undefined;
  private writer: ParquetWriter | undefined;
  private rows = 0;
  private readonly byteWriter: FileByteWriter;

  constructor(
    private readonly file: AtomicFile,
    private readonly options: OutputSinkOptions,
  ) {
    this.byteWriter = new FileByteWriter(file);
  }

  get path(): string {
    return this.options.path;
  }

  private start(columns: readonly { name: string; type: OutputColumnType }[]): void {
    this.columnNames = columns.map((c) => c.name);
    this.gathered = columns.map((c) => ({ name: c.name, type: c.type, values: [] }));
    const columnData: ColumnSource[] = columns.map((c) => ({
      name: c.name,
      data: [],
      type: c.type,
      nullable: true,
    }));
    this.writer = new ParquetWriter({
      writer: this.byteWriter,
      schema: schemaFromColumnData({ columnData }),
      createdBy: "slipway batch-predict",
    });
  }

  async write(result: BlockResult): Promise<void> {
    if (result.written === 0) return;
    if (result.output.kind !== "columns") throw new Error("a Parquet sink got text");
    const columns = result.output.columns;
    if (this.gathered === undefined) this.start(columns);
    else sameColumns(this.columnNames, result);
    const gathered = this.gathered!;
    columns.forEach((column, c) => {
      const target = gathered[c]!;
      for (let r = 0; r < column.values.length; r++) {
        const value = fit(column.values[r], target.type);
        if (value === undefined) {
          throw new BatchError(
            `column '${target.name}' holds ${target.type} values in the Parquet output, but row ${result.firstRow + r} ` +
              `of this block has ${typeof column.values[r]} ${JSON.stringify(String(column.values[r]))}; ` +
              `write CSV or JSON Lines, or leave the column out with --keep`,
          );
        }
        target.values.push(value);
      }
    });
    this.rows += result.written;
    if (this.rows >= ROW_GROUP_ROWS) await this.flushGroup();
  }

  private async flushGroup(): Promise<void> {
    if (!this.writer || !this.gathered || this.rows === 0) return;
    const columnData = this.gathered.map((g) => ({ name: g.name, data: g.values }));
    const rows = this.rows;
    for (const g of this.gathered) g.values = [];
    this.rows = 0;
    await this.writer.write({ columnData, rowGroupSize: rows });
  }

  async commit(): Promise<void> {
    if (!this.writer) {
      this.start(this.options.fallbackNames.map((name) => ({ name, type: name === "row" ? "INT64" : "STRING" })));
    }
    await this.flushGroup();
    await this.writer!.finish();
    // ByteWriter's own finish writes nothing out: hand the footer to the file
    await this.byteWriter.flush();
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}

export async function openParquetSink(options: OutputSinkOptions): Promise<OutputSink> {
  return new ParquetSink(await AtomicFile.create(options.path), options);
}
