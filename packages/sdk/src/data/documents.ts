/**
 * Profiles and expectations on disk: `readProfileFile` and `readExpectationsFile` read and check a JSON
 * document, and name the file in every error (`exp.json: columns.age.max: must be a number, got 'x'`);
 * `writeJsonFile` writes one (pretty-printed, newline-terminated).
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { parseExpectations, parseProfile, type DataProfile, type Expectations } from "@slipway/ml";
import { DataFileError } from "./read-table.js";

async function readDocument<T>(path: string, parse: (text: string) => T): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new DataFileError(
      path,
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : String((error as Error).message),
      { cause: error },
    );
  }
  try {
    return parse(text);
  } catch (error) {
    throw new DataFileError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Reads and checks a data profile (`profileTable`'s JSON). */
export function readProfileFile(path: string): Promise<DataProfile> {
  return readDocument(path, parseProfile);
}

/** Reads and checks an expectations document. */
export function readExpectationsFile(path: string): Promise<Expectations> {
  return readDocument(path, parseExpectations);
}

/** Writes a text file atomically: a temporary file beside it, renamed over it when complete. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  const partial = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(partial, text);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Writes a JSON document, pretty-printed, atomically. */
export async function writeJsonFile(path: string, document: unknown): Promise<void> {
  await writeTextFile(path, `${JSON.stringify(document, null, 2)}\n`);
}
