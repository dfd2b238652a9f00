/**
 * Artifact repository on S3 or an S3-compatible store (`s3://bucket/prefix`).
 *
 * Loaded lazily by the registry, so processes that never use S3 never load the AWS SDK.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable, Transform } from "node:stream";

import { MlflowError } from "@slipway/protocol";

import {
  checkContentLength,
  compareArtifactNames,
  contentLengthMismatch,
  discardBody,
  isArtifactName,
  validateArtifactPath,
} from "./artifact-repository.js";
import type {
  ArtifactFile,
  ArtifactPutOptions,
  ArtifactRepository,
  MultipartUploadCredential,
  MultipartUploadPart,
  MultipartUploads,
} from "./artifact-repository.js";

export interface S3Options {
  /** Custom endpoint (MinIO, Ceph, ...). Default: MLFLOW_S3_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** Default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the SDK's default chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style addressing. Default: true when a custom endpoint is set, false for AWS. */
  forcePathStyle?: boolean;
  /** Lifetime of presigned multipart part URLs, in seconds. Default 3600. */
  presignExpiresSeconds?: number;
}

/** Part size for streamed uploads; raised for very large declared lengths (S3 allows 10,000 parts). */
const PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;
const MAX_PARTS = 10_000;
const DELETE_BATCH = 1000;
const DEFAULT_PRESIGN_SECONDS = 3600;

type Env = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Builds the S3 client configuration from explicit options, falling back to the AWS environment. */
export function s3ClientConfig(options: S3Options = {}, env: Env = process.env): S3ClientConfig {
  const endpoint =
    nonEmpty(options.endpoint) ??
    nonEmpty(env.MLFLOW_S3_ENDPOINT_URL) ??
    nonEmpty(env.AWS_ENDPOINT_URL_S3) ??
    nonEmpty(env.AWS_ENDPOINT_URL);
  const region =
    nonEmpty(options.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? "us-east-1";

  let credentials: S3ClientConfig["credentials"];
  if (options.accessKeyId !== undefined || options.secretAccessKey !== undefined) {
    if (!options.accessKeyId || !options.secretAccessKey) {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        "S3 options need both accessKeyId and secretAccessKey, or neither",
      );
    }
    credentials = {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    };
  } else {
    const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
    const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
    const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
    }
    // Otherwise leave it to the SDK's default chain (profiles, SSO, web identity, instance role).
  }

  return {
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    // Newer SDKs checksum every upload by default and send streams as aws-chunked with trailers,
    // which many S3-compatible stores do not understand. Checksum only where S3 requires it
    // (e.g. DeleteObjects) unless the standard AWS variables ask for more.
    requestChecksumCalculation:
      env.AWS_REQUEST_CHECKSUM_CALCULATION === "WHEN_SUPPORTED" ? "WHEN_SUPPORTED" : "WHEN_REQUIRED",
    responseChecksumValidation:
      env.AWS_RESPONSE_CHECKSUM_VALIDATION === "WHEN_SUPPORTED" ? "WHEN_SUPPORTED" : "WHEN_REQUIRED",
  };
}

/** Splits `s3://bucket/prefix` into bucket and a clean prefix ("" for the bucket root). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(uri);
  const bucket = match?.[1];
  if (match === null || bucket === undefined || !/^[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]$/i.test(bucket)) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid S3 URI '${uri}': expected s3://<bucket>[/<prefix>]`);
  }
  const rawPrefix = (match[2] ?? "").replace(/\/+$/, "");
  return { bucket, prefix: validateArtifactPath(rawPrefix) };
}

function httpStatus(error: S3ServiceException): number | undefined {
  return error.$metadata?.httpStatusCode;
}

/** Maps an SDK error to an MlflowError with the matching MLflow code. */
function s3Error(error: unknown, action: string, path: string): MlflowError {
  if (error instanceof MlflowError) return error;
  const what = `Failed to ${action} artifact '${path}'`;
  if (error instanceof S3ServiceException) {
    const status = httpStatus(error);
    const message = `${what}: ${error.name}${error.message && error.message !== error.name ? ` (${error.message})` : ""}`;
    const options = { cause: error };
    switch (error.name) {
      case "NoSuchKey":
      case "NotFound":
      case "NoSuchUpload":
      case "NoSuchBucket":
        return new MlflowError("RESOURCE_DOES_NOT_EXIST", message, options);
      case "AccessDenied":
      case "InvalidAccessKeyId":
      case "SignatureDoesNotMatch":
      case "ExpiredToken":
        return new MlflowError("PERMISSION_DENIED", message, options);
      case "InvalidPart":
      case "InvalidPartOrder":
      case "EntityTooSmall":
      case "EntityTooLarge":
      case "KeyTooLongError":
      case "InvalidArgument":
        return new MlflowError("INVALID_PARAMETER_VALUE", message, options);
      case "SlowDown":
      case "ServiceUnavailable":
        return new MlflowError("TEMPORARILY_UNAVAILABLE", message, options);
    }
    if (status === 404) return new MlflowError("RESOURCE_DOES_NOT_EXIST", message, options);
    if (status === 401 || status === 403) return new MlflowError("PERMISSION_DENIED", message, options);
    if (status === 429) return new MlflowError("REQUEST_LIMIT_EXCEEDED", message, options);
    if (status === 503) return new MlflowError("TEMPORARILY_UNAVAILABLE", message, options);
    return new MlflowError("INTERNAL_ERROR", message, options);
  }
  return new MlflowError("INTERNAL_ERROR", what, { cause: error });
}

/** Passes bytes through, failing the stream if it carries more or fewer than `expected`. */
function lengthGuard(path: string, expected: number | undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer | string, _encoding, callback) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      seen += bytes.byteLength;
      if (expected !== undefined && seen > expected) {
        callback(contentLengthMismatch(path, seen, expected));
      } else {
        callback(null, bytes);
      }
    },
    flush(callback) {
      if (expected !== undefined && seen !== expected) {
        callback(contentLengthMismatch(path, seen, expected));
      } else {
        callback();
      }
    },
  });
}

export class S3ArtifactRepository implements ArtifactRepository, MultipartUploads {
  readonly uri: string;
  readonly bucket: string;
  /** Key prefix of the root, without a trailing slash ("" = bucket root). */
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #presignSeconds: number;

  constructor(uri: string, options: S3Options = {}, env: Env = process.env) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.uri = prefix === "" ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
    this.#client = new S3Client(s3ClientConfig(options, env));
    this.#presignSeconds = options.presignExpiresSeconds ?? DEFAULT_PRESIGN_SECONDS;
  }

  /** Releases the client's sockets. The repository is unusable afterwards. */
  close(): void {
    this.#client.destroy();
  }

  #key(clean: string): string {
    if (this.prefix === "") return clean;
    return clean === "" ? this.prefix : `${this.prefix}/${clean}`;
  }

  /** The key prefix of everything inside a directory ("" for the bucket root). */
  #dirPrefix(clean: string): string {
    const key = this.#key(clean);
    return key === "" ? "" : `${key}/`;
  }

  #fileKey(path: string): { clean: string; key: string } {
    const clean = validateArtifactPath(path);
    if (clean === "") {
      throw new MlflowError("INVALID_PARAMETER_VALUE", "The root path is a directory, not a file");
    }
    return { clean, key: this.#key(clean) };
  }

  async put(path: string, body: NodeJS.ReadableStream | Uint8Array, options?: ArtifactPutOptions): Promise<void> {
    let clean = path;
    let source: Readable | Uint8Array | undefined;
    try {
      const file = this.#fileKey(path);
      clean = file.clean;
      const expected = checkContentLength(clean, options?.contentLength);
      if (body instanceof Uint8Array) {
        if (expected !== undefined && body.byteLength !== expected) {
          throw contentLengthMismatch(clean, body.byteLength, expected);
        }
        source = body;
      } else {
        const readable = body instanceof Readable ? body : new Readable().wrap(body);
        const guard = lengthGuard(clean, expected);
        readable.on("error", (error: Error) => guard.destroy(error));
        source = readable.pipe(guard);
      }
      const partSize = Math.max(PART_SIZE, Math.ceil((expected ?? 0) / MAX_PARTS));
      // Upload sends one PutObject when the body fits in a part, else a multipart upload with
      // at most UPLOAD_CONCURRENCY parts in flight (so at most that many parts buffered),
      // and aborts the multipart upload if anything fails: nothing partial becomes visible.
      const upload = new Upload({
        client: this.#client,
        params: { Bucket: this.bucket, Key: file.key, Body: source },
        partSize,
        queueSize: UPLOAD_CONCURRENCY,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      discardBody(body);
      if (source instanceof Readable) source.destroy();
      throw s3Error(error, "store", clean);
    }
  }

  async get(path: string): Promise<{ body: NodeJS.ReadableStream; size: number }> {
    if (validateArtifactPath(path) === "") {
      throw new MlflowError("RESOURCE_DOES_NOT_EXIST", "No artifact file at the root path");
    }
    const { clean, key } = this.#fileKey(path);
    let response;
    try {
      response = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (error instanceof S3ServiceException && (error.name === "NoSuchKey" || httpStatus(error) === 404)) {
        throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No artifact file at '${clean}'`, {
          cause: error,
        });
      }
      throw s3Error(error, "read", clean);
    }
    const body = response.Body;
    if (!(body instanceof Readable) || response.ContentLength === undefined) {
      if (body instanceof Readable) body.destroy();
      throw new MlflowError("INTERNAL_ERROR", `S3 returned no readable body for artifact '${clean}'`);
    }
    return { body, size: response.ContentLength };
  }

  async list(dir: string): Promise<ArtifactFile[] | null> {
    const clean = validateArtifactPath(dir);
    const prefix = this.#dirPrefix(clean);
    const files: ArtifactFile[] = [];
    let sawAnything = false;
    let token: string | undefined;
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: "/",
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        for (const common of page.CommonPrefixes ?? []) {
          sawAnything = true;
          const name = common.Prefix?.slice(prefix.length, -1);
          if (name !== undefined && isArtifactName(name)) files.push({ path: name, isDir: true });
        }
        for (const object of page.Contents ?? []) {
          sawAnything = true;
          const name = object.Key?.slice(prefix.length);
          if (name !== undefined && isArtifactName(name)) {
            files.push({ path: name, isDir: false, size: object.Size ?? 0 });
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw s3Error(error, "list", clean);
    }
    if (!sawAnything) return clean === "" ? [] : null;
    return files.sort((a, b) => compareArtifactNames(a.path, b.path));
  }

  async delete(path: string): Promise<void> {
    const clean = validateArtifactPath(path);
    try {
      // The object itself (a file), then everything under it as a directory.
      if (clean !== "") await this.#deleteKeys([this.#key(clean)]);
      const prefix = this.#dirPrefix(clean);
      let token: string | undefined;
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: DELETE_BATCH,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
        if (keys.length > 0) await this.#deleteKeys(keys);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw s3Error(error, "delete", clean);
    }
  }

  async #deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = (result.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
      const first = failed[0];
      if (first !== undefined) {
        throw new MlflowError(
          first.Code === "AccessDenied" ? "PERMISSION_DENIED" : "INTERNAL_ERROR",
          `S3 could not delete ${failed.length} object(s), first '${first.Key ?? "?"}': ${first.Code ?? "?"} ${first.Message ?? ""}`.trim(),
        );
      }
    }
  }

  async createMultipartUpload(
    path: string,
    numParts: number,
  ): Promise<{ uploadId: string; credentials: MultipartUploadCredential[] }> {
    const { clean, key } = this.#fileKey(path);
    if (!Number.isSafeInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `Invalid num_parts ${String(numParts)}: it must be an integer from 1 to ${MAX_PARTS}`,
      );
    }
    try {
      const created = await this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
      const uploadId = created.UploadId;
      if (uploadId === undefined) {
        throw new MlflowError("INTERNAL_ERROR", `S3 returned no upload id for artifact '${clean}'`);
      }
      const credentials: MultipartUploadCredential[] = [];
      for (let part = 1; part <= numParts; part++) {
        const url = await getSignedUrl(
          this.#client,
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: part,
          }),
          { expiresIn: this.#presignSeconds },
        );
        credentials.push({ url, part_number: part, headers: {} });
      }
      return { uploadId, credentials };
    } catch (error) {
      throw s3Error(error, "start multipart upload of", clean);
    }
  }

  async completeMultipartUpload(path: string, uploadId: string, parts: MultipartUploadPart[]): Promise<void> {
    const { clean, key } = this.#fileKey(path);
    checkUploadId(uploadId);
    if (parts.length === 0) {
      throw new MlflowError("INVALID_PARAMETER_VALUE", "A multipart upload needs at least one part");
    }
    const sorted = [...parts].sort((a, b) => a.part_number - b.part_number);
    for (const [index, part] of sorted.entries()) {
      const duplicate = index > 0 && sorted[index - 1]?.part_number === part.part_number;
      if (!Number.isSafeInteger(part.part_number) || part.part_number < 1 || duplicate || !part.etag) {
        throw new MlflowError(
          "INVALID_PARAMETER_VALUE",
          `Invalid multipart part ${JSON.stringify(part)}: part numbers must be distinct integers >= 1 with an etag`,
        );
      }
    }
    try {
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: sorted.map((part) => ({ PartNumber: part.part_number, ETag: part.etag })),
          },
        }),
      );
    } catch (error) {
      throw s3Error(error, "complete multipart upload of", clean);
    }
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    const { clean, key } = this.#fileKey(path);
    checkUploadId(uploadId);
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      throw s3Error(error, "abort multipart upload of", clean);
    }
  }
}

function checkUploadId(uploadId: string): void {
  if (typeof uploadId !== "string" || uploadId === "") {
    throw new MlflowError("INVALID_PARAMETER_VALUE", "upload_id must be a non-empty string");
  }
}
