/**
 * Collecting what is wrong with a request's input, per column and kind of problem, with every offending
 * row, so that one 400 answer names all of it: `column 'age' expects long but got a string ('x') in rows
 * 2, 5 (2 of 8)`. The wording follows `checkAgainstSignature` in `@slipway/ml`, so a request checked here
 * reads the same as a table checked by `slipway data validate`.
 */
import { kindOf, show } from "@slipway/ml";
import { badInput, type InferenceError } from "../errors.js";

type Kind = "missing" | "wrong_type" | "not_a_row" | "other";

interface Problem {
  column: string;
  kind: Kind;
  expected: string;
  found: string;
  /** The first few rows. */
  rows: number[];
  count: number;
}

const ROWS_SHOWN = 5;

export class Problems {
  // allocated on the first problem: a request that fits pays for nothing
  private byKey: Map<string, Problem> | undefined;
  private general: string[] | undefined;

  /** `noun` names what a problem is about: `column` (column signatures) or `tensor`. */
  constructor(private readonly noun: "column" | "tensor" = "column") {}

  get empty(): boolean {
    return this.byKey === undefined && this.general === undefined;
  }

  /** A problem of `column` at `row`; problems of the same column, kind and finding are merged. */
  add(column: string, kind: Exclude<Kind, "other">, expected: string, row: number, found = ""): void {
    const key = `${column}\u0000${kind}\u0000${found}`;
    this.byKey ??= new Map();
    let p = this.byKey.get(key);
    if (!p) {
      p = { column, kind, expected, found, rows: [], count: 0 };
      this.byKey.set(key, p);
    }
    if (p.rows.length <= ROWS_SHOWN) p.rows.push(row);
    p.count++;
  }

  /** A problem that is not about particular rows (`tensor 'x' has shape [2, 3] where ... was expected`). */
  addMessage(message: string): void {
    (this.general ??= []).push(message);
  }

  messages(totalRows: number): string[] {
    const out = [...(this.general ?? [])];
    for (const p of this.byKey?.values() ?? []) out.push(message(p, totalRows, this.noun));
    return out;
  }

  /** Throws a 400 naming every problem, when there is one. */
  throwIfAny(totalRows: number): void {
    if (!this.empty) throw this.error(totalRows);
  }

  error(totalRows: number): InferenceError {
    return badInput(`The input does not match the model's signature: ${this.messages(totalRows).join("; ")}`);
  }
}

function rowList(p: Problem): string {
  const shown = p.rows.slice(0, ROWS_SHOWN).join(", ");
  return p.count > ROWS_SHOWN ? `${shown} and ${p.count - ROWS_SHOWN} more` : shown;
}

function message(p: Problem, total: number, noun: string): string {
  const where = `${p.count === 1 ? "row" : "rows"} ${rowList(p)} (${p.count} of ${total})`;
  switch (p.kind) {
    case "missing":
      return p.count === total && total > 1
        ? `${noun} '${p.column}' (${p.expected}) is required but missing`
        : `${noun} '${p.column}' (${p.expected}) is required but missing in ${where}`;
    case "wrong_type":
      return `${noun} '${p.column}' expects ${p.expected} but got ${p.found} in ${where}`;
    case "not_a_row":
      return `${where}: each row must be ${p.expected}, got ${p.found}`;
    case "other":
      return p.found;
  }
}

/**
 * What a value is, for "expects X but got Y", worded as `@slipway/ml`'s checks word it: `a string ('abc')`,
 * `a number with a fraction (1.5)`, `an integer`, `a list`.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isInteger(value)) return `a number with a fraction (${value})`;
    return "an integer";
  }
  if (typeof value === "string") return `a string (${show(value)})`;
  return kindOf(value);
}
