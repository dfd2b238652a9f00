/**
 * Test support for batch prediction: a real text-classifier model package (the native predictor, as
 * `textClassifierPackage` writes it), and input files of generated rows in each format.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer, type ColumnSource } from "hyparquet-writer";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { saveModelPackage } from "@slipway/sdk";

const TEXTS = [
  "win a free prize now",
  "free money click here",
  "cheap pills free offer",
  "meeting moved to monday",
  "please review the attached report",
  "lunch on friday with the team",
];
const LABELS = ["spam", "spam", "spam", "ham", "ham", "ham"];

export interface Scratch {
  readonly dir: string;
  path(name: string): string;
  remove(): Promise<void>;
}

export async function scratch(prefix = "slipway-batch-"): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A spam/ham text classifier package in `dir` (input column `text`, classes ham and spam). */
export async function writeSpamPackage(dir: string): Promise<string> {
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(TEXTS, LABELS);
  await saveModelPackage(dir, textClassifierPackage(classifier, { inputExample: ["free prize"] }));
  return dir;
}

/** Row `i` of the generated inputs: every 5th a spam text; some with commas, quotes and line breaks. */
export function rowText(i: number): string {
  if (i % 5 === 0) return `free money, win a "prize" ${i}`;
  if (i % 11 === 0) return `meeting on monday\nabout report ${i}`;
  return `please review the report ${i}`;
}

export function csvQuote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function writeCsvRows(path: string, n: number, crlf = false): Promise<void> {
  const eol = crlf ? "\r\n" : "\n";
  const lines = ["id,text"];
  for (let i = 0; i < n; i++) lines.push(`${i},${csvQuote(rowText(i))}`);
  await writeFile(path, lines.join(eol) + eol);
}

export async function writeJsonlRows(path: string, n: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: i, text: rowText(i) }));
  await writeFile(path, `${lines.join("\n")}\n`);
}

export async function writeParquetRows(path: string, n: number, rowGroupSize = 1000): Promise<void> {
  const columnData: ColumnSource[] = [
    { name: "id", data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) },
    { name: "text", data: Array.from({ length: n }, (_, i) => rowText(i)), type: "STRING" },
  ];
  await writeFile(path, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize })));
}

export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  return (await parquetReadObjects({ file: await asyncBufferFromFile(path) })) as Record<string, unknown>[];
}

/** The lines of a JSON Lines file, parsed. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
