/**
 * CSV and JSON Lines output: the bytes the prediction threads encoded, appended block after block, with
 * a CSV header first (unless the file is a chunk, to be concatenated under one header).
 */
import { AtomicFile } from "./atomic-file.js";
import { csvField } from "./csv-records.js";
import type { BlockResult } from "./block.js";
import { sameColumns, type OutputSink, type OutputSinkOptions } from "./sink.js";

export async function openTextSink(options: OutputSinkOptions): Promise<OutputSink> {
  return new TextSink(await AtomicFile.create(options.path), options);
}

class TextSink implements OutputSink {
  columnNames: readonly string[] | undefined;

  constructor(
    private readonly file: AtomicFile,
    private readonly options: OutputSinkOptions,
  ) {}

  get path(): string {
    return this.options.path;
  }

  private async writeHeader(names: readonly string[]): Promise<void> {
    this.columnNames = names;
    if (this.options.format === "csv" && this.options.header !== false) {
      await this.file.write(Buffer.from(`${names.map(csvField).join(",")}\n`));
    }
  }

  async write(result: BlockResult): Promise<void> {
    if (result.written === 0) return;
    if (result.output.kind !== "text") throw new Error(`a ${this.options.format} sink got columns`);
    if (this.columnNames === undefined) await this.writeHeader(result.columnNames);
    else sameColumns(this.columnNames, result);
    await this.file.write(result.output.bytes);
  }

  async commit(): Promise<void> {
    if (this.columnNames === undefined) await this.writeHeader(this.options.fallbackNames);
    await this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}
