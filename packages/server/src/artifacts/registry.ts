/**
 * Chooses an artifact repository implementation by URI scheme. Implementations are imported on
 * first use, so a process that never touches S3 never loads the AWS SDK.
 */
import { MlflowError } from "@slipway/protocol";

import type { ArtifactRepository } from "./artifact-repository.js";
import type { S3Options } from "./s3.js";

export interface OpenArtifactRepositoryOptions {
  s3?: S3Options;
}

type Opener = (uri: string, options: OpenArtifactRepositoryOptions) => Promise<ArtifactRepository>;

const openLocal: Opener = async (uri) => {
  const { LocalArtifactRepository } = await import("./local.js");
  return new LocalArtifactRepository(uri);
};

/** Scheme (lower case, without ":") → opener. Plain paths use the "file" entry. */
const OPENERS: Readonly<Record<string, Opener>> = {
  file: openLocal,
  s3: async (uri, options) => {
    const { S3ArtifactRepository } = await import("./s3.js");
    return new S3ArtifactRepository(uri, options.s3);
  },
};

export const SUPPORTED_ARTIFACT_SCHEMES: readonly string[] = Object.keys(OPENERS);

/**
 * The URI's scheme, or undefined for a plain path. A single letter before ":" is a Windows drive
 * (`C:\data`), not a scheme.
 */
function schemeOf(uri: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  const scheme = match?.[1];
  if (scheme === undefined || scheme.length === 1) return undefined;
  return scheme.toLowerCase();
}

export async function openArtifactRepository(
  uri: string,
  options: OpenArtifactRepositoryOptions = {},
): Promise<ArtifactRepository> {
  if (typeof uri !== "string" || uri.trim() === "") {
    throw new MlflowError("INVALID_PARAMETER_VALUE", "Artifact URI must be a non-empty string");
  }
  const scheme = schemeOf(uri);
  if (scheme === undefined) return openLocal(uri, options);
  const opener = Object.hasOwn(OPENERS, scheme) ? OPENERS[scheme] : undefined;
  if (opener === undefined) {
    const supported = SUPPORTED_ARTIFACT_SCHEMES.map((s) => `${s}:`).join(", ");
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `Unsupported artifact URI scheme '${scheme}:' in '${uri}'. Supported: ${supported} (or a plain path)`,
    );
  }
  return opener(uri, options);
}
