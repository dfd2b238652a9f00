/**
 * The values that travel between steps: plain JSON. Outputs are checked when a step returns (a `Map`, a
 * `Date`, `NaN` or a function would otherwise be changed or dropped silently by `JSON.stringify`), and
 * serialised canonically (object keys sorted) for cache keys.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `the bigint ${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : "an object without a prototype";
}

/**
 * The path (`outputs.model.weights[3]`) and reason of the first value in `value` that is not plain JSON,
 * or undefined when it all is. Cycles are reported too.
 */
export function findNonJson(value: unknown, path: string): string | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): string | undefined => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
    if (typeof v === "number")
      return Number.isFinite(v) ? undefined : `${at} is ${describe(v)} (JSON has no such number)`;
    if (typeof v !== "object") return `${at} is ${describe(v)}`;
    if (seen.has(v)) return `${at} refers back to itself (a cycle)`;
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const bad = walk(v[i], `${at}[${i}]`);
          if (bad !== undefined) return bad;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return `${at} is ${describe(v)}, not a plain object`;
      for (const [key, item] of Object.entries(v)) {
        const bad = walk(item, /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`);
        if (bad !== undefined) return bad;
      }
      return undefined;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, path);
}

/** JSON text with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(",")}}`;
}
