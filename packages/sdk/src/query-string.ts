/**
 * Query strings as MLflow's GET handlers read them: one key per scalar field, repeated keys for
 * repeated fields (`?run_ids=a&run_ids=b`), booleans as `true`/`false`, absent fields left out.
 */

export type QueryScalar = string | number | boolean | bigint;
export type QueryValue = QueryScalar | readonly QueryScalar[] | null | undefined;

function scalarToText(key: string, value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return String(value);
    default:
      // MLflow's GET routes only take scalars and lists of scalars; nested messages need a JSON body.
      throw new TypeError(`query field '${key}' must be a string, number, boolean or a list of them`);
  }
}

/** Encodes a request object as `URLSearchParams`, in the object's key order. */
export function toSearchParams(fields: object): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item === undefined || item === null) continue;
        params.append(key, scalarToText(key, item));
      }
    } else {
      params.append(key, scalarToText(key, value));
    }
  }
  return params;
}

/** `?a=1&b=2`, or the empty string when there is nothing to send. */
export function encodeQuery(fields: object): string {
  const text = toSearchParams(fields).toString();
  return text === "" ? "" : `?${text}`;
}
