/**
 * JSON text as Python's `json.dumps(value)` writes it with its defaults: `", "` and `": "` separators,
 * non-ASCII characters escaped (`ensure_ascii`), `NaN` / `Infinity` allowed. MLflow stores signatures
 * as such strings inside the MLmodel YAML, so writing them the same way keeps files written by Slipway
 * and by MLflow alike. (Python writes a float that happens to be whole as `1.0`; JavaScript numbers do
 * not remember that, so it is written `1` — equal on reading.)
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return pythonNumber(value);
    case "bigint":
      return value.toString();
    case "string":
      return asciiString(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
      return `{${Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${asciiString(k)}: ${pythonJson(v)}`)
        .join(", ")}}`;
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}

/** `1e-7` → `1e-07`, as Python's float repr writes exponents (at least two digits). */
function pythonNumber(value: number): string {
  const text = String(value);
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}

function asciiString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SPECIAL: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/**
 * Parses JSON text as Python's `json.loads` does by default: standard JSON plus the bare tokens `NaN`,
 * `Infinity` and `-Infinity` (which `json.dumps` writes for such floats). Throws `SyntaxError`.
 */
export function parsePythonJson(text: string): unknown {
  // Swap the special tokens (outside string literals) for unique strings, then map them back.
  const marker = `\u0000py:${Math.random().toString(36).slice(2)}:`;
  let out = "";
  let i = 0;
  let swapped = false;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const token = /^(-Infinity|Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (token) {
      out += JSON.stringify(marker + token[1]!);
      i += token[1]!.length;
      swapped = true;
      continue;
    }
    out += c;
    i++;
  }
  if (!swapped) return JSON.parse(text) as unknown;
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(marker) ? SPECIAL[value.slice(marker.length)] : value,
  ) as unknown;
}
