/**
 * The data planes' auth flags, validated at boot: `--auth control-plane` (check callers against the
 * control plane at `--tracking-uri`) and `--api-keys FILE` (the server's own keys). Either, both, or
 * neither (no auth: the server trusts its network, as before).
 */
import { readApiKeysFile, type ApiKeyring, type KeysFileFormat } from "./api-keys.js";
import { ControlPlaneAuth } from "./control-plane-auth.js";
import { DataPlaneAuth } from "./data-plane-auth.js";

export interface DataPlaneAuthFlags {
  /** `control-plane` (or `none`). */
  auth?: string;
  /** A keys file (YAML or JSON). */
  apiKeys?: string;
}

export interface DataPlaneAuthConfig {
  /** The control plane's base URL, when `--auth control-plane`. */
  controlPlane?: string;
  apiKeysFile?: string;
}

/** Parses the flags; `fail` makes the caller's configuration error. Undefined: no auth. */
export function loadDataPlaneAuthConfig(
  flags: DataPlaneAuthFlags,
  trackingUri: string | undefined,
  fail: (message: string) => Error,
): DataPlaneAuthConfig | undefined {
  const mode = flags.auth?.trim();
  if (mode !== undefined && mode !== "control-plane" && mode !== "none") {
    throw fail(`--auth: '${flags.auth}' is not one of control-plane, none`);
  }
  const config: DataPlaneAuthConfig = {};
  if (mode === "control-plane") {
    const uri = trackingUri?.trim();
    if (!uri) {
      throw fail("--auth control-plane: give --tracking-uri (or set SLIPWAY_TRACKING_URI): callers are checked there");
    }
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw fail(`--tracking-uri: '${uri}' is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw fail(`--tracking-uri: '${uri}' is not an http(s) URL of a tracking server`);
    }
    config.controlPlane = uri;
  }
  if (flags.apiKeys !== undefined) {
    if (flags.apiKeys.trim() === "") throw fail("--api-keys: give the path of a keys file");
    config.apiKeysFile = flags.apiKeys;
  }
  return config.controlPlane === undefined && config.apiKeysFile === undefined ? undefined : config;
}

/** Opens what the config names: reads the keys file, points at the control plane. */
export async function openDataPlaneAuth(config: DataPlaneAuthConfig, format?: KeysFileFormat): Promise<DataPlaneAuth> {
  const keys: ApiKeyring | undefined =
    config.apiKeysFile === undefined ? undefined : await readApiKeysFile(config.apiKeysFile, format);
  return new DataPlaneAuth({
    ...(keys === undefined ? {} : { keys }),
    ...(config.controlPlane === undefined
      ? {}
      : { controlPlane: new ControlPlaneAuth({ trackingUri: config.controlPlane }) }),
  });
}
