/**
 * Slipway's own registry API (beyond MLflow): the alias and stage history, as a route table in the same shape as
 * the MLflow tables. Paths are below `/api/2.0` and `/ajax-api/2.0`, in the `slipway/` namespace.
 *
 * The history is written by the MLflow-compatible routes themselves (alias set/delete, transition-stage, version
 * and model deletes). A client may say why it moved an alias or a stage in the `X-Slipway-Reason` header of
 * those requests, so that MLflow's request bodies stay exactly MLflow's.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { RouteSpec } from "../mlflow/tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

/** One recorded change. Versions are strings, as everywhere in the registry; an absent version means "unset". */
export const AliasHistoryEntry = Type.Object({
  /** The model's name when the change was made (a later rename does not rewrite history). */
  name: Str,
  /** The alias (kind `alias`) or the stage (kind `stage`) that changed. */
  alias: Str,
  kind: Type.Union([Type.Literal("alias"), Type.Literal("stage")]),
  /** The version it pointed to before (for a stage: the latest version in that stage). */
  from_version: OptStr,
  /** The version it points to after. */
  to_version: OptStr,
  /** Epoch milliseconds. */
  changed_at: Type.Integer(),
  user_id: OptStr,
  /** The client's `X-Slipway-Reason`, and for stage rows which version moved where. */
  reason: OptStr,
});
export type AliasHistoryEntry = Static<typeof AliasHistoryEntry>;

/** Alias (or stage) name → version. */
const VersionMap = Type.Record(Type.String(), Type.String());

export const registryHistoryRoutes = {
  getAliasHistory: route({
    name: "getAliasHistory",
    method: "GET",
    path: "/slipway/registered-models/alias-history",
    request: Type.Object({
      name: Str,
      /** Only this alias (or stage) name. */
      alias: OptStr,
      /** Epoch milliseconds: also answer where every alias and stage pointed at that instant. */
      at: OptInt,
      max_results: OptInt,
      page_token: OptStr,
    }),
    response: Type.Object({
      /** Newest first. */
      history: Type.Array(AliasHistoryEntry),
      /** With `at`: the version each alias pointed to at that instant (aliases that were unset are left out). */
      at: Type.Optional(VersionMap),
      /** With `at`: the same for the stages Staging, Production and Archived (their latest version). */
      at_stages: Type.Optional(VersionMap),
      next_page_token: OptStr,
    }),
  }),
} as const;

export type RegistryHistoryRoutes = typeof registryHistoryRoutes;
export type AliasHistoryRequest = Static<RegistryHistoryRoutes["getAliasHistory"]["request"]>;
export type AliasHistoryResponse = Static<RegistryHistoryRoutes["getAliasHistory"]["response"]>;

export const ALIAS_HISTORY_LIMITS = {
  defaultMaxResults: 100,
  maxMaxResults: 1000,
  /** Characters of a reason, after decoding. */
  maxReason: 1000,
} as const;

/** Request header carrying why an alias was set or deleted, or a version changed stage (lower case, as Node reads it). */
export const SLIPWAY_REASON_HEADER = "x-slipway-reason";

/** RFC 8187's prefix for a percent-encoded UTF-8 header value. */
const UTF8_PREFIX = "UTF-8''";
const PLAIN_HEADER_TEXT = /^[\x20-\x7e]*$/;

/**
 * A reason as a header value: printable ASCII as it is; anything else (accents, newlines, emoji) as
 * `UTF-8''<percent-encoded>`, since header values are bytes that fetch only accepts in Latin-1.
 */
export function encodeReasonHeader(reason: string): string {
  if (PLAIN_HEADER_TEXT.test(reason) && !reason.toUpperCase().startsWith(UTF8_PREFIX)) return reason;
  return UTF8_PREFIX + encodeURIComponent(reason);
}

/**
 * The reason a header value carries: `UTF-8''<percent-encoded>` decoded, or the raw value (whose bytes Node
 * reads as Latin-1; when they form valid UTF-8, as `curl -H 'X-Slipway-Reason: é'` sends, they are read as
 * UTF-8). Trimmed; undefined when empty. Throws URIError on broken percent-encoding.
 */
export function decodeReasonHeader(value: string): string | undefined {
  let text = value;
  if (value.toUpperCase().startsWith(UTF8_PREFIX)) {
    text = decodeURIComponent(value.slice(UTF8_PREFIX.length));
  } else {
    const bytes = highLatin1Bytes(value);
    if (bytes) {
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        // not UTF-8: keep the Latin-1 reading
      }
    }
  }
  text = text.trim();
  return text === "" ? undefined : text;
}

/** The value's bytes when every character is Latin-1 and some are above ASCII; otherwise undefined. */
function highLatin1Bytes(value: string): Uint8Array | undefined {
  const bytes = new Uint8Array(value.length);
  let high = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) return undefined;
    if (c >= 0x80) high = true;
    bytes[i] = c;
  }
  return high ? bytes : undefined;
}
