import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";

import fc from "fast-check";

import { MlflowError } from "@slipway/protocol";

import { ESCAPING_PATHS } from "./artifact-repository.contract.js";
import {
  compareArtifactNames,
  downloadTree,
  listRecursive,
  supportsMultipart,
  validateArtifactPath,
} from "./artifact-repository.js";
import type { ArtifactFile, ArtifactRepository } from "./artifact-repository.js";

const invalid = (error: unknown): boolean =>
  error instanceof MlflowError && error.code === "INVALID_PARAMETER_VALUE" && error.status === 400;

describe("validateArtifactPath", () => {
  it("returns clean relative POSIX paths", () => {
    const cases: [string, string][] = [
      ["", ""],
      [".", ""],
      ["./", ""],
      ["a", "a"],
      ["a/", "a"],
      ["./a/./b/.", "a/b"],
      ["a/b/c.txt", "a/b/c.txt"],
      ["...", "..."],
      ["..a/b..", "..a/b.."],
      [".hidden", ".hidden"],
      ["50%.txt", "50%.txt"],
      ["a%20b/c%2Fd", "a%20b/c%2Fd"],
      ["100%25", "100%25"],
      ["üñí €/日本", "üñí €/日本"],
      ["time 12:00", "time 12:00"],
      ["x#y?z", "x#y?z"],
    ];
    for (const [input, expected] of cases) {
      assert.equal(validateArtifactPath(input), expected, JSON.stringify(input));
    }
  });

  it("rejects anything that could leave the root", () => {
    for (const bad of [...ESCAPING_PATHS, "a//", "//", "/", "a\u0001b", "a\u007f", "%2E%2E", "a/%2e%2e%2f%2e%2e/b"]) {
      assert.throws(() => validateArtifactPath(bad), invalid, JSON.stringify(bad));
    }
  });

  it("names the problem without echoing huge inputs", () => {
    assert.throws(
      () => validateArtifactPath(`../${"x".repeat(10_000)}`),
      (error: unknown) => error instanceof MlflowError && error.message.length < 400,
    );
  });

  it("never returns a path that escapes, and is idempotent (property)", () => {
    const segment = fc.oneof(
      fc.constantFrom("..", ".", "", "a", "%2e%2e", "%252e", "\\", "C:", "\u0000", "b.txt", "%2f"),
      fc.string({ maxLength: 6 }),
    );
    const separator = fc.constantFrom("/", "/", "/", "\\", "//");
    const pathArb = fc
      .tuple(fc.boolean(), fc.array(fc.tuple(segment, separator), { maxLength: 6 }))
      .map(([absolute, parts]) => (absolute ? "/" : "") + parts.map(([name, sep]) => `${name}${sep}`).join(""));
    fc.assert(
      fc.property(fc.oneof(pathArb, fc.string({ maxLength: 20 })), (input) => {
        let clean: string;
        try {
          clean = validateArtifactPath(input);
        } catch (error) {
          assert.ok(invalid(error), `unexpected error for ${JSON.stringify(input)}: ${String(error)}`);
          return;
        }
        assert.equal(validateArtifactPath(clean), clean, "idempotent");
        if (clean === "") return;
        assert.equal(posix.normalize(clean), clean, "already normal");
        assert.ok(!clean.startsWith("/") && !clean.includes("\\") && !clean.includes("\u0000"));
        assert.ok(!clean.split("/").includes(".."));
        const root = resolve("/srv/artifacts");
        assert.ok(resolve(root, clean).startsWith(`${root}/`), "stays inside the root");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("compareArtifactNames", () => {
  it("orders by UTF-8 bytes, like S3", () => {
    const names = ["b", "a", "Z", "a/b", "a.b", "\u{1F600}", "\uFFFD", "é"];
    assert.deepEqual([...names].sort(compareArtifactNames), ["Z", "a", "a.b", "a/b", "b", "é", "\uFFFD", "\u{1F600}"]);
  });
});

/** A small in-memory repository, only to test the shared code's own logic. */
class MemoryRepository implements ArtifactRepository {
  readonly uri = "memory:";
  readonly files = new Map<string, Buffer>();
  /** Size `get` announces for a path, to simulate a store that lies. */
  readonly announced = new Map<string, number>();
  readonly destroyed: string[] = [];
  failOn: string | undefined;

  async put(path: string, body: NodeJS.ReadableStream | Uint8Array): Promise<void> {
    const chunks: Buffer[] = [];
    if (body instanceof Uint8Array) chunks.push(Buffer.from(body));
    else for await (const chunk of body) chunks.push(Buffer.from(chunk));
    this.files.set(validateArtifactPath(path), Buffer.concat(chunks));
  }

  async get(path: string): Promise<{ body: NodeJS.ReadableStream; size: number }> {
    const clean = validateArtifactPath(path);
    const data = this.files.get(clean);
    if (data === undefined) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", clean);
    const fail = this.failOn === clean;
    const body = Readable.from(
      (async function* () {
        yield data.subarray(0, 1);
        if (fail) throw new Error("connection reset");
        yield data.subarray(1);
      })(),
    );
    body.on("close", () => this.destroyed.push(clean));
    return { body, size: this.announced.get(clean) ?? data.length };
  }

  async list(dir: string): Promise<ArtifactFile[] | null> {
    const clean = validateArtifactPath(dir);
    const prefix = clean === "" ? "" : `${clean}/`;
    const children = new Map<string, ArtifactFile>();
    for (const [path, data] of this.files) {
      if (!path.startsWith(prefix)) continue;
      const [name, ...rest] = path.slice(prefix.length).split("/");
      if (name === undefined) continue;
      children.set(
        name,
        rest.length > 0 ? { path: name, isDir: true } : { path: name, isDir: false, size: data.length },
      );
    }
    if (children.size === 0) return clean === "" ? [] : null;
    return [...children.values()].sort((a, b) => compareArtifactNames(a.path, b.path));
  }

  async delete(): Promise<void> {
    throw new Error("not used");
  }
}

describe("shared conveniences", () => {
  it("supportsMultipart checks for all three methods", () => {
    const repo = new MemoryRepository();
    assert.equal(supportsMultipart(repo), false);
    const partial = Object.assign(new MemoryRepository(), {
      createMultipartUpload: async () => ({}),
    });
    assert.equal(supportsMultipart(partial), false);
    const full = Object.assign(new MemoryRepository(), {
      createMultipartUpload: async () => ({}),
      completeMultipartUpload: async () => undefined,
      abortMultipartUpload: async () => undefined,
    });
    assert.equal(supportsMultipart(full), true);
  });

  it("listRecursive walks wide trees level by level", async () => {
    const repo = new MemoryRepository();
    for (let i = 0; i < 30; i++) await repo.put(`d${i}/sub/f`, Buffer.from(String(i)));
    const files = await listRecursive(repo, "");
    assert.equal(files.length, 30);
    assert.deepEqual(files[0], { path: "d0/sub/f", size: 1 });
    assert.deepEqual(
      files.map((f) => f.path),
      [...files.map((f) => f.path)].sort(compareArtifactNames),
    );
  });

  it("downloadTree reports DATA_LOSS when a file is shorter than announced", async () => {
    const local = await mkdtemp(join(tmpdir(), "slipway-shared-"));
    try {
      const repo = new MemoryRepository();
      await repo.put("m/a.bin", Buffer.from("abc"));
      repo.announced.set("m/a.bin", 10);
      await assert.rejects(
        downloadTree(repo, "m", local),
        (error: unknown) => error instanceof MlflowError && error.code === "DATA_LOSS",
      );
      assert.deepEqual(await readdir(local), [], "the short file is removed");
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });

  it("downloadTree closes the source and removes the partial file when a read fails", async () => {
    const local = await mkdtemp(join(tmpdir(), "slipway-shared-"));
    try {
      const repo = new MemoryRepository();
      await repo.put("m/ok.bin", Buffer.from("fine"));
      await repo.put("m/bad.bin", Buffer.from("broken"));
      repo.failOn = "m/bad.bin";
      await assert.rejects(
        downloadTree(repo, "m", local),
        (error: unknown) => error instanceof MlflowError && error.code === "INTERNAL_ERROR",
      );
      assert.ok(repo.destroyed.includes("m/bad.bin"), "failed body stream was closed");
      assert.ok(!(await readdir(local)).includes("bad.bin"));
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });
});
