/**
 * The behaviour every ArtifactRepository must show. Each implementation's test file calls
 * `artifactRepositoryContract` with a factory; every test gets a fresh, empty repository.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";

import { MlflowError } from "@slipway/protocol";

import { downloadTree, listRecursive } from "./artifact-repository.js";
import type { ArtifactRepository } from "./artifact-repository.js";

export interface ArtifactRepositoryFixture {
  repo: ArtifactRepository;
  cleanup(): Promise<void>;
}

export interface ArtifactRepositoryContractOptions {
  /** Test title → reason. Named skips only; an unknown title is an error. */
  skip?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Helpers

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

async function getBytes(repo: ArtifactRepository, path: string): Promise<Buffer> {
  const { body, size } = await repo.get(path);
  const bytes = await readAll(body);
  assert.equal(bytes.length, size, `size announced for '${path}' matches the bytes`);
  return bytes;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function streamOf(chunks: readonly Uint8Array[]): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        await new Promise((resolve) => setImmediate(resolve));
        yield chunk;
      }
    })(),
  );
}

function failingStream(good: Uint8Array): Readable {
  return Readable.from(
    (async function* () {
      yield good;
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error("client went away");
    })(),
  );
}

async function rejectsWith(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(
    promise,
    (error: unknown) => {
      assert.ok(error instanceof MlflowError, `${what}: expected MlflowError, got ${String(error)}`);
      assert.equal(error.code, code, `${what}: ${error.message}`);
      return true;
    },
    what,
  );
}

const text = (s: string): Uint8Array => Buffer.from(s, "utf8");

/** Paths that must never reach storage; the caller has already URL-decoded them once. */
export const ESCAPING_PATHS: readonly string[] = [
  "..",
  "../x",
  "a/../../x",
  "a/..",
  "/etc/passwd",
  "//server/share",
  "a\\..\\b",
  "..\\x",
  "\\\\server\\share",
  "C:/Windows/x",
  "c:x",
  "%2e%2e/x",
  "a/%2E%2E/%2e%2e/x",
  "%252e%252e/x",
  "..%2fx",
  "%2fetc%2fpasswd",
  "x\u0000y",
  "x/\u0000",
  "a//b",
  "a/./../b",
];

// ---------------------------------------------------------------------------------------------

export function artifactRepositoryContract(
  name: string,
  make: () => Promise<ArtifactRepositoryFixture>,
  options: ArtifactRepositoryContractOptions = {},
): void {
  const titles = new Set<string>();

  describe(`ArtifactRepository contract: ${name}`, () => {
    const test = (title: string, body: (repo: ArtifactRepository) => Promise<void>): void => {
      titles.add(title);
      const reason = options.skip?.[title];
      it(title, reason === undefined ? {} : { skip: reason }, async () => {
        const fixture = await make();
        try {
          await body(fixture.repo);
        } finally {
          await fixture.cleanup();
        }
      });
    };

    test("put/get round trip keeps binary bytes exactly", async (repo) => {
      const all = Buffer.alloc(256 * 4);
      for (let i = 0; i < all.length; i++) all[i] = i % 256;
      await repo.put("bytes.bin", all);
      assert.deepEqual(await getBytes(repo, "bytes.bin"), all);

      const random = pseudoRandomBytes(300_000, 7);
      const chunks = [random.subarray(0, 1), random.subarray(1, 70_001), random.subarray(70_001)];
      await repo.put("streamed.bin", streamOf(chunks));
      assert.deepEqual(await getBytes(repo, "streamed.bin"), random);

      await repo.put("unicode ü €.txt", text("héllo"));
      assert.equal((await getBytes(repo, "unicode ü €.txt")).toString("utf8"), "héllo");
    });

    test("put/get an empty file", async (repo) => {
      await repo.put("empty.txt", new Uint8Array(0));
      await repo.put("empty-stream.txt", streamOf([]));
      assert.equal((await getBytes(repo, "empty.txt")).length, 0);
      assert.equal((await getBytes(repo, "empty-stream.txt")).length, 0);
      assert.deepEqual(await repo.list(""), [
        { path: "empty-stream.txt", isDir: false, size: 0 },
        { path: "empty.txt", isDir: false, size: 0 },
      ]);
    });

    test("put creates nested directories", async (repo) => {
      await repo.put("a/b/c/d.bin", text("deep"));
      assert.equal((await getBytes(repo, "a/b/c/d.bin")).toString(), "deep");
      assert.deepEqual(await repo.list("a/b/c"), [{ path: "d.bin", isDir: false, size: 4 }]);
    });

    test("list shows directories that only hold subdirectories", async (repo) => {
      await repo.put("a/b/c/d.bin", text("deep"));
      assert.deepEqual(await repo.list(""), [{ path: "a", isDir: true }]);
      assert.deepEqual(await repo.list("a"), [{ path: "b", isDir: true }]);
      assert.deepEqual(await repo.list("a/b"), [{ path: "c", isDir: true }]);
      assert.deepEqual(await listRecursive(repo, ""), [{ path: "a/b/c/d.bin", size: 4 }]);
    });

    test("put/get a 20 MiB file streamed", async (repo) => {
      const chunkSize = 256 * 1024;
      const total = 20 * 1024 * 1024;
      const hash = createHash("sha256");
      const body = Readable.from(
        (function* () {
          for (let offset = 0, i = 0; offset < total; offset += chunkSize, i++) {
            const chunk = pseudoRandomBytes(chunkSize, i + 1);
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      await repo.put("big/model.bin", body);
      const expected = hash.digest("hex");

      const { body: read, size } = await repo.get("big/model.bin");
      assert.equal(size, total);
      const readHash = createHash("sha256");
      let received = 0;
      for await (const chunk of read) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        received += bytes.length;
        readHash.update(bytes);
      }
      assert.equal(received, total);
      assert.equal(readHash.digest("hex"), expected);
      assert.deepEqual(await repo.list("big"), [{ path: "model.bin", isDir: false, size: total }]);
    });

    test("overwrite replaces the whole file", async (repo) => {
      await repo.put("f.txt", text("a much longer first version"));
      await repo.put("f.txt", text("v2"));
      assert.equal((await getBytes(repo, "f.txt")).toString(), "v2");
      await repo.put("f.txt", streamOf([text("third "), text("version")]));
      assert.equal((await getBytes(repo, "f.txt")).toString(), "third version");
      assert.deepEqual(await repo.list(""), [{ path: "f.txt", isDir: false, size: 13 }]);
    });

    test("contentLength is enforced and a mismatch stores nothing", async (repo) => {
      await repo.put("sized.txt", streamOf([text("12345")]), { contentLength: 5 });
      assert.equal((await getBytes(repo, "sized.txt")).toString(), "12345");

      for (const [body, declared] of [
        [streamOf([text("123")]), 5],
        [streamOf([text("1234567")]), 5],
        [text("123"), 5],
      ] as const) {
        await rejectsWith(
          repo.put("sized.txt", body, { contentLength: declared }),
          "INVALID_PARAMETER_VALUE",
          `declared ${declared}`,
        );
        await rejectsWith(
          repo.put("fresh.txt", text("123"), { contentLength: 4 }),
          "INVALID_PARAMETER_VALUE",
          "fresh file with wrong length",
        );
      }
      await rejectsWith(
        repo.put("neg.txt", text(""), { contentLength: -1 }),
        "INVALID_PARAMETER_VALUE",
        "negative length",
      );
      assert.equal((await getBytes(repo, "sized.txt")).toString(), "12345");
      assert.deepEqual(await repo.list(""), [{ path: "sized.txt", isDir: false, size: 5 }]);
    });

    test("a body stream that fails stores nothing", async (repo) => {
      await repo.put("keep.txt", text("original"));
      await assert.rejects(repo.put("keep.txt", failingStream(text("partial"))));
      await assert.rejects(repo.put("new/never.txt", failingStream(text("partial"))));
      assert.equal((await getBytes(repo, "keep.txt")).toString(), "original");
      await rejectsWith(repo.get("new/never.txt"), "RESOURCE_DOES_NOT_EXIST", "failed new file");
      const listed = await repo.list("");
      assert.ok(listed !== null);
      assert.deepEqual(
        listed.filter((f) => !f.isDir),
        [{ path: "keep.txt", isDir: false, size: 8 }],
      );
      assert.deepEqual((await repo.list("new")) ?? [], []);
    });

    test("list returns direct children, sorted, with dirs flagged and sizes", async (repo) => {
      await repo.put("b.txt", text("bbb"));
      await repo.put("a.txt", text("a"));
      await repo.put("Z.txt", text("zz"));
      await repo.put("dir/x", text("xx"));
      await repo.put("dir/sub/y", text("y"));
      await repo.put("dir2/z", text("z"));
      await repo.put("dir.txt", text("dot"));

      assert.deepEqual(await repo.list(""), [
        { path: "Z.txt", isDir: false, size: 2 },
        { path: "a.txt", isDir: false, size: 1 },
        { path: "b.txt", isDir: false, size: 3 },
        { path: "dir", isDir: true },
        { path: "dir.txt", isDir: false, size: 3 },
        { path: "dir2", isDir: true },
      ]);
      const dir = [
        { path: "sub", isDir: true },
        { path: "x", isDir: false, size: 2 },
      ];
      assert.deepEqual(await repo.list("dir"), dir);
      assert.deepEqual(await repo.list("dir/"), dir);
      assert.deepEqual(await repo.list("./dir"), dir);
      assert.deepEqual(await repo.list("dir/sub"), [{ path: "y", isDir: false, size: 1 }]);
      assert.equal(await repo.list("missing"), null);
      assert.equal(await repo.list("missing/deeper"), null);
      assert.equal(await repo.list("di"), null, "a name prefix is not a directory");
      assert.equal(await repo.list("a.txt"), null, "a file is not a directory");
    });

    test("list of an empty repository root is empty", async (repo) => {
      assert.deepEqual(await repo.list(""), []);
      assert.deepEqual(await repo.list("."), []);
    });

    test("paths are normalised: '.' segments and a trailing slash", async (repo) => {
      await repo.put("./n/./f.txt", text("f"));
      assert.equal((await getBytes(repo, "n/f.txt")).toString(), "f");
      assert.equal((await getBytes(repo, "n/./f.txt")).toString(), "f");
      assert.deepEqual(await repo.list("n/"), [{ path: "f.txt", isDir: false, size: 1 }]);
    });

    test("percent signs are literal in names", async (repo) => {
      await repo.put("50%.txt", text("half"));
      await repo.put("a%20b/c%2Fd.txt", text("enc"));
      assert.equal((await getBytes(repo, "50%.txt")).toString(), "half");
      assert.equal((await getBytes(repo, "a%20b/c%2Fd.txt")).toString(), "enc");
      await rejectsWith(repo.get("a b/c/d.txt"), "RESOURCE_DOES_NOT_EXIST", "decoded name");
      assert.deepEqual(await repo.list(""), [
        { path: "50%.txt", isDir: false, size: 4 },
        { path: "a%20b", isDir: true },
      ]);
      assert.deepEqual(await repo.list("a%20b"), [{ path: "c%2Fd.txt", isDir: false, size: 3 }]);
    });

    test("delete removes a file and leaves its siblings", async (repo) => {
      await repo.put("dir/x", text("x"));
      await repo.put("dir/y", text("y"));
      await repo.delete("dir/x");
      await rejectsWith(repo.get("dir/x"), "RESOURCE_DOES_NOT_EXIST", "deleted file");
      assert.deepEqual(await repo.list("dir"), [{ path: "y", isDir: false, size: 1 }]);
      await repo.delete("dir/y");
      assert.deepEqual((await repo.list("dir")) ?? [], []);
    });

    test("delete removes a directory recursively, and only that directory", async (repo) => {
      await repo.put("dir/x", text("x"));
      await repo.put("dir/sub/y", text("y"));
      await repo.put("dir/sub/deeper/z", text("z"));
      await repo.put("dir2/keep", text("k"));
      await repo.put("dir.txt", text("k"));
      await repo.put("dirx", text("k"));
      await repo.delete("dir/");
      assert.equal(await repo.list("dir"), null);
      await rejectsWith(repo.get("dir/sub/y"), "RESOURCE_DOES_NOT_EXIST", "file in deleted dir");
      assert.deepEqual(await repo.list(""), [
        { path: "dir.txt", isDir: false, size: 1 },
        { path: "dir2", isDir: true },
        { path: "dirx", isDir: false, size: 1 },
      ]);
      assert.equal((await getBytes(repo, "dir2/keep")).toString(), "k");
    });

    test("delete of a missing path is not an error", async (repo) => {
      await repo.delete("nope");
      await repo.delete("nope/deeper/still");
      await repo.put("file", text("f"));
      await repo.delete("file/under-a-file");
      assert.equal((await getBytes(repo, "file")).toString(), "f");
    });

    test("delete of the root empties the repository", async (repo) => {
      await repo.put("a/b", text("1"));
      await repo.put("c", text("2"));
      await repo.delete("");
      assert.deepEqual(await repo.list(""), []);
      await repo.put("again", text("3"));
      assert.equal((await getBytes(repo, "again")).toString(), "3");
    });

    test("paths that could escape the root are rejected", async (repo) => {
      await repo.put("inside/file.txt", text("safe"));
      for (const bad of ESCAPING_PATHS) {
        const what = JSON.stringify(bad);
        await rejectsWith(repo.put(bad, text("evil")), "INVALID_PARAMETER_VALUE", `put ${what}`);
        await rejectsWith(repo.get(bad), "INVALID_PARAMETER_VALUE", `get ${what}`);
        await rejectsWith(repo.list(bad), "INVALID_PARAMETER_VALUE", `list ${what}`);
        await rejectsWith(repo.delete(bad), "INVALID_PARAMETER_VALUE", `delete ${what}`);
        await rejectsWith(listRecursive(repo, bad), "INVALID_PARAMETER_VALUE", `listRecursive ${what}`);
      }
      assert.deepEqual(await listRecursive(repo, ""), [{ path: "inside/file.txt", size: 4 }]);
    });

    test("get of a missing file is RESOURCE_DOES_NOT_EXIST", async (repo) => {
      await repo.put("dir/file", text("f"));
      await rejectsWith(repo.get("missing.txt"), "RESOURCE_DOES_NOT_EXIST", "missing file");
      await rejectsWith(repo.get("nodir/missing.txt"), "RESOURCE_DOES_NOT_EXIST", "missing dir");
      await rejectsWith(repo.get("dir"), "RESOURCE_DOES_NOT_EXIST", "a directory");
      await rejectsWith(repo.get(""), "RESOURCE_DOES_NOT_EXIST", "the root");
      await rejectsWith(repo.put("", text("x")), "INVALID_PARAMETER_VALUE", "put at the root");
    });

    test("concurrent puts of the same path leave one complete version", async (repo) => {
      const size = 512 * 1024;
      const writers = 6;
      const versions = Array.from({ length: writers }, (_, i) => Buffer.alloc(size, 0x41 + i));
      const isWholeVersion = (bytes: Buffer): boolean => bytes.length === size && versions.some((v) => v.equals(bytes));

      let writing = true;
      const partial: string[] = [];
      const reader = async (): Promise<void> => {
        while (writing) {
          try {
            const bytes = await getBytes(repo, "race/shared.bin");
            if (!isWholeVersion(bytes)) partial.push(`read ${bytes.length} mixed bytes`);
          } catch (error) {
            if (!(error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST")) throw error;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const readers = [reader(), reader()];
      try {
        await Promise.all(
          versions.map((v) => {
            const chunks = [];
            for (let offset = 0; offset < size; offset += 64 * 1024) {
              chunks.push(v.subarray(offset, offset + 64 * 1024));
            }
            return repo.put("race/shared.bin", streamOf(chunks));
          }),
        );
      } finally {
        writing = false;
        await Promise.all(readers);
      }
      assert.deepEqual(partial, [], "readers only ever saw complete versions");
      assert.ok(isWholeVersion(await getBytes(repo, "race/shared.bin")), "one complete version");
      assert.deepEqual(await repo.list("race"), [{ path: "shared.bin", isDir: false, size }]);
    });

    test("listRecursive returns every file below a directory", async (repo) => {
      await repo.put("top.txt", text("t"));
      await repo.put("dir/x", text("xx"));
      await repo.put("dir/sub/y", text("yyy"));
      await repo.put("dir/sub/deeper/z", text(""));
      await repo.put("dir.txt", text("d"));

      assert.deepEqual(await listRecursive(repo, "dir"), [
        { path: "dir/sub/deeper/z", size: 0 },
        { path: "dir/sub/y", size: 3 },
        { path: "dir/x", size: 2 },
      ]);
      assert.deepEqual(await listRecursive(repo, ""), [
        { path: "dir.txt", size: 1 },
        { path: "dir/sub/deeper/z", size: 0 },
        { path: "dir/sub/y", size: 3 },
        { path: "dir/x", size: 2 },
        { path: "top.txt", size: 1 },
      ]);
      assert.deepEqual(await listRecursive(repo, "missing"), []);
      assert.deepEqual(await listRecursive(repo, "top.txt"), []);
    });

    test("downloadTree copies a directory to local disk", async (repo) => {
      const local = await mkdtemp(join(tmpdir(), "slipway-download-"));
      try {
        const big = pseudoRandomBytes(1024 * 1024 + 3, 11);
        await repo.put("model/MLmodel", text("flavors: {}\n"));
        await repo.put("model/data/weights.bin", big);
        await repo.put("model/data/empty", text(""));
        await repo.put("other/skip.txt", text("not part of the tree"));

        const files = await downloadTree(repo, "model", join(local, "out"));
        assert.deepEqual(
          files.map((f) => ({ path: f.path, size: f.size, localPath: f.localPath })),
          [
            { path: "model/MLmodel", size: 12, localPath: join(local, "out", "MLmodel") },
            { path: "model/data/empty", size: 0, localPath: join(local, "out", "data", "empty") },
            {
              path: "model/data/weights.bin",
              size: big.length,
              localPath: join(local, "out", "data", "weights.bin"),
            },
          ],
        );
        assert.equal(await readFile(join(local, "out", "MLmodel"), "utf8"), "flavors: {}\n");
        assert.deepEqual(await readFile(join(local, "out", "data", "weights.bin")), big);
        assert.equal((await readFile(join(local, "out", "data", "empty"))).length, 0);
        assert.deepEqual((await readdir(join(local, "out"))).sort(), ["MLmodel", "data"]);

        const everything = await downloadTree(repo, "", join(local, "all"));
        assert.equal(everything.length, 4);
        assert.equal(await readFile(join(local, "all", "other", "skip.txt"), "utf8"), "not part of the tree");

        await rejectsWith(
          downloadTree(repo, "missing", join(local, "missing")),
          "RESOURCE_DOES_NOT_EXIST",
          "missing directory",
        );
        await rejectsWith(
          downloadTree(repo, "../model", join(local, "evil")),
          "INVALID_PARAMETER_VALUE",
          "escaping directory",
        );
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    });

    for (const title of Object.keys(options.skip ?? {})) {
      if (!titles.has(title)) {
        throw new Error(`artifactRepositoryContract: no test named '${title}' to skip`);
      }
    }
  });
}
