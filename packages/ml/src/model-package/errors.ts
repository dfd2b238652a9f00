/**
 * The one error of the model package format: which field of the `MLmodel` file is wrong and how.
 * `field` is a path into the file (`flavors.onnx.data`, `signature.inputs[2].type`), or `MLmodel` for
 * the file as a whole.
 */
export class MLmodelError extends Error {
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super(`${field}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MLmodelError";
    this.field = field;
    this.problem = problem;
  }
}

/** A value as a message shows it: strings quoted, the rest as JSON (cut short). */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `'${value.length > 80 ? `${value.slice(0, 77)}...` : value}'`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = kindOf(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `a mapping`, `a list`, `a string`... for "must be X, got Y" messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a timestamp";
  if (value instanceof Uint8Array) return "binary data";
  switch (typeof value) {
    case "object":
      return "a mapping";
    case "string":
      return "a string";
    case "number":
      return Number.isInteger(value) ? "an integer" : "a number";
    case "boolean":
      return "a boolean";
    default:
      return typeof value;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A path inside the package: relative, `/`-separated, no `..`, `.` or empty segments. Returns the
 * normalised path or throws naming `field`.
 */
export function checkRelativePath(field: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new MLmodelError(field, `must be a relative path inside the package, got ${kindOf(value)}`);
  }
  if (value.startsWith("/") || value.startsWith("\\") || /^[A-Za-z]:/.test(value) || value.includes("\0")) {
    throw new MLmodelError(field, `${show(value)} must be a relative path inside the package`);
  }
  const segments = value.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === "..")) {
    throw new MLmodelError(field, `${show(value)} must not leave the package ('..' is not allowed)`);
  }
  if (segments.length === 0) throw new MLmodelError(field, `${show(value)} does not name a file`);
  return segments.join("/");
}
