/**
 * The coordinator's side of the output: chunk files appended to the job's output in chunk order as
 * soon as each chunk and all before it are done (then deleted), into one temporary file renamed into
 * place at the end. CSV gets one header (the chunks have none); JSON Lines chunks are appended as they
 * are; Parquet chunks are read row group by row group and written again as row groups of the output.
 * Bad rows of every chunk are gathered into one errors file, in row order.
 */
import { createReadStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, parquetSchema, type SchemaElement } from "hyparquet";
import { AtomicFile } from "../atomic-file.js";
import type { BlockResult, OutputColumn, OutputColumnType } from "../block.js";
import { csvField } from "../csv-records.js";
import { ErrorsFile } from "../errors-file.js";
import { baseColumnNames } from "../job-plan.js";
import { openParquetSink } from "../parquet-sink.js";
import type { PreparedJob } from "../prepared-job.js";
import type { OutputSink } from "../sink.js";
import { chunkErrorsPath, chunkPath, type ChunkJobResult } from "./chunk-job.js";

function columnType(element: SchemaElement): OutputColumnType {
  if (element.converted_type === "JSON" || element.logical_type?.type === "JSON") return "JSON";
  switch (element.type) {
    case "DOUBLE":
      return "DOUBLE";
    case "FLOAT":
      return "FLOAT";
    case "INT64":
      return "INT64";
    case "BOOLEAN":
      return "BOOLEAN";
    default:
      return "STRING";
  }
}

export class ChunkAssembler {
  private columnNames: readonly string[] | undefined;

  private constructor(
    private readonly job: PreparedJob,
    private readonly dir: string,
    private readonly text: AtomicFile | undefined,
    private readonly parquet: OutputSink | undefined,
    private readonly errors: ErrorsFile,
  ) {}

  static async open(job: PreparedJob, dir: string): Promise<ChunkAssembler> {
    const errors = new ErrorsFile(job.errorsPath);
    if (job.outputFormat === "parquet") {
      const sink = await openParquetSink({
        path: job.outputPath,
        format: "parquet",
        fallbackNames: baseColumnNames(job.plan.output),
      });
      return new ChunkAssembler(job, dir, undefined, sink, errors);
    }
    return new ChunkAssembler(job, dir, await AtomicFile.create(job.outputPath), undefined, errors);
  }

  private async header(names: readonly string[]): Promise<void> {
    this.columnNames = names;
    if (this.job.outputFormat === "csv") await this.text!.write(Buffer.from(`${names.map(csvField).join(",")}\n`));
  }

  /** Appends chunk `chunk` (whose job answered `result`), then removes its files. */
  async append(chunk: number, result: ChunkJobResult): Promise<void> {
    const file = chunkPath(this.dir, chunk, this.job.outputFormat);
    if (result.written > 0) {
      if (this.columnNames === undefined) {
        if (this.text) await this.header(result.columnNames);
        else this.columnNames = result.columnNames;
      } else if (this.columnNames.join("\u0000") !== result.columnNames.join("\u0000")) {
        throw new Error(
          `chunk ${chunk} has the output columns ${result.columnNames.join(", ")} where earlier chunks had ${this.columnNames.join(", ")}`,
        );
      }
      if (this.text) {
        for await (const piece of createReadStream(file) as AsyncIterable<Buffer>) await this.text.write(piece);
      } else {
        await this.appendParquet(chunk, file);
      }
    }
    if (result.errors > 0) await this.errors.addLines(await readFile(chunkErrorsPath(this.dir, chunk)), result.errors);
    await rm(file, { force: true });
    await rm(chunkErrorsPath(this.dir, chunk), { force: true });
  }

  private async appendParquet(chunk: number, file: string): Promise<void> {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const elements = parquetSchema(metadata).children.map((c) => c.element);
    const names = elements.map((e) => e.name);
    const scan = await parquetScan({ file: buffer, metadata, columns: names });
    let start = 0;
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const end = start + rows;
      const columns: OutputColumn[] = [];
      for (const element of elements) {
        const values = await scan.readColumn({ column: element.name, rowStart: start, rowEnd: end });
        columns.push({
          name: element.name,
          type: columnType(element),
          values: Array.from(values as ArrayLike<unknown>),
        });
      }
      const block: BlockResult = {
        index: chunk,
        firstRow: start,
        rows,
        written: rows,
        columnNames: names,
        output: { kind: "columns", columns },
        errors: [],
      };
      await this.parquet!.write(block);
      start = end;
    }
  }

  async commit(): Promise<void> {
    if (this.text) {
      if (this.columnNames === undefined) await this.header(baseColumnNames(this.job.plan.output));
      await this.text.commit();
    } else {
      await this.parquet!.commit();
    }
    await this.errors.commit();
  }

  async abort(): Promise<void> {
    await Promise.allSettled([this.text?.abort(), this.parquet?.abort(), this.errors.abort()]);
  }
}
