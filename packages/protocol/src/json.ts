/**
 * JSON as MLflow's Python server reads and writes it: the non-standard tokens `NaN`, `Infinity`
 * and `-Infinity` stand for IEEE values (Python's json module emits and accepts them).
 */

const NON_FINITE = /NaN|Infinity/;

/** Parses JSON, accepting the bare tokens NaN, Infinity and -Infinity outside strings. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!NON_FINITE.test(text)) throw error;
    return parseWithNonFinite(text);
  }
}

// Markers that cannot appear in valid JSON text as strings we produce ourselves.
const NAN_MARK = "\u0000slipway:NaN";
const POS_INF_MARK = "\u0000slipway:+Inf";
const NEG_INF_MARK = "\u0000slipway:-Inf";

function parseWithNonFinite(text: string): unknown {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      // copy a string literal verbatim, honouring escapes
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith("NaN", i)) {
      out += JSON.stringify(NAN_MARK);
      i += 3;
    } else if (text.startsWith("-Infinity", i)) {
      out += JSON.stringify(NEG_INF_MARK);
      i += 9;
    } else if (text.startsWith("Infinity", i)) {
      out += JSON.stringify(POS_INF_MARK);
      i += 8;
    } else {
      out += c;
      i += 1;
    }
  }
  return JSON.parse(out, (key, value: unknown) => {
    if (key === NAN_MARK || key === POS_INF_MARK || key === NEG_INF_MARK)
      throw new SyntaxError("NaN or Infinity cannot be a key");
    if (value === NAN_MARK) return NaN;
    if (value === POS_INF_MARK) return Infinity;
    if (value === NEG_INF_MARK) return -Infinity;
    return value;
  });
}

/** A JSON number token, with NaN/Infinity spelled as Python writes them. */
export function numberToJson(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

/** JSON.stringify that writes non-finite numbers as NaN/Infinity/-Infinity instead of null. */
export function stringifyJson(value: unknown): string {
  // fast path: JSON.stringify writes NaN/Infinity as null, so output without "null" had none of them
  const plain = JSON.stringify(value);
  if (!plain.includes("null")) return plain;
  let hasNonFinite = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      hasNonFinite = true;
      return Number.isNaN(v) ? NAN_MARK : v > 0 ? POS_INF_MARK : NEG_INF_MARK;
    }
    return v;
  });
  if (!hasNonFinite) return text;
  return text
    .replaceAll(JSON.stringify(NAN_MARK), "NaN")
    .replaceAll(JSON.stringify(POS_INF_MARK), "Infinity")
    .replaceAll(JSON.stringify(NEG_INF_MARK), "-Infinity");
}
