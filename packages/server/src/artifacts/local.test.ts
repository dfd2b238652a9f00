import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";

import { MlflowError } from "@slipway/protocol";

import { artifactRepositoryContract, readAll } from "./artifact-repository.contract.js";
import { supportsMultipart } from "./artifact-repository.js";
import { LocalArtifactRepository } from "./local.js";

artifactRepositoryContract("local", async () => {
  const base = await mkdtemp(join(tmpdir(), "slipway-local-"));
  // The root does not exist yet: the repository must create it on first write.
  const repo = new LocalArtifactRepository(join(base, "artifacts"));
  return { repo, cleanup: () => rm(base, { recursive: true, force: true }) };
});

function isCode(code: string) {
  return (error: unknown): boolean => error instanceof MlflowError && error.code === code;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-local-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("LocalArtifactRepository", () => {
  it("accepts file: URIs and plain paths", () => {
    const abs = join(tmpdir(), "slipway-x", "root");
    for (const uri of [abs, pathToFileURL(abs).href, `file:${abs}`, `${abs}/`]) {
      const repo = new LocalArtifactRepository(uri);
      assert.equal(repo.root, abs, uri);
      assert.equal(repo.uri, pathToFileURL(abs).href, uri);
    }
    const rel = new LocalArtifactRepository("./mlartifacts");
    assert.equal(rel.root, join(process.cwd(), "mlartifacts"));
    assert.equal(new LocalArtifactRepository("file:mlartifacts").root, join(process.cwd(), "mlartifacts"));
    assert.throws(() => new LocalArtifactRepository("file://remote-host/x"), isCode("INVALID_PARAMETER_VALUE"));
  });

  it("does not offer multipart uploads", () => {
    assert.equal(supportsMultipart(new LocalArtifactRepository(tmpdir())), false);
  });

  it("does not touch the disk until used", async () => {
    await withTempDir(async (dir) => {
      const repo = new LocalArtifactRepository(join(dir, "later"));
      assert.deepEqual(await readdir(dir), []);
      assert.deepEqual(await repo.list(""), []);
      assert.equal(await repo.list("x"), null);
      await repo.delete("x");
      await assert.rejects(repo.get("x"), isCode("RESOURCE_DOES_NOT_EXIST"));
      assert.deepEqual(await readdir(dir), []);
      await repo.put("x", new Uint8Array([1]));
      assert.deepEqual(await readdir(join(dir, "later")), ["x"]);
    });
  });

  it("leaves no temp files behind, after success or failure", async () => {
    await withTempDir(async (dir) => {
      const repo = new LocalArtifactRepository(dir);
      await repo.put("d/ok.txt", Buffer.from("ok"));
      const failing = Readable.from(
        (async function* () {
          yield Buffer.from("part");
          throw new Error("boom");
        })(),
      );
      await assert.rejects(repo.put("d/bad.txt", failing));
      await assert.rejects(repo.put("d/short.txt", Buffer.from("x"), { contentLength: 2 }));
      assert.deepEqual(await readdir(join(dir, "d")), ["ok.txt"]);
    });
  });

  it("rejects writes where a parent is a file, or onto a directory", async () => {
    await withTempDir(async (dir) => {
      const repo = new LocalArtifactRepository(dir);
      await repo.put("file", Buffer.from("f"));
      await repo.put("dir/x", Buffer.from("x"));
      await assert.rejects(repo.put("file/child", Buffer.from("c")), isCode("INVALID_PARAMETER_VALUE"));
      await assert.rejects(repo.put("dir", Buffer.from("d")), isCode("INVALID_PARAMETER_VALUE"));
      assert.equal(await readFile(join(dir, "file"), "utf8"), "f");
      assert.deepEqual(await readdir(join(dir, "dir")), ["x"]);
    });
  });

  it("skips entries that are not addressable artifacts, and never blocks on a FIFO", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, "back\\slash"), "x");
      await writeFile(join(dir, "ok.txt"), "ok");
      const fifo = spawnSync("mkfifo", [join(dir, "pipe")]);
      const repo = new LocalArtifactRepository(dir);
      assert.deepEqual(await repo.list(""), [{ path: "ok.txt", isDir: false, size: 2 }]);
      if (fifo.status === 0) {
        await assert.rejects(repo.get("pipe"), isCode("RESOURCE_DOES_NOT_EXIST"));
      }
    });
  });

  it("never follows a symlink out of the root", async () => {
    await withTempDir(async (base) => {
      const root = join(base, "root");
      const outside = join(base, "outside");
      await mkdir(root);
      await mkdir(outside);
      await writeFile(join(outside, "secret.txt"), "secret");
      await symlink(relative(root, outside), join(root, "link"), "dir");
      await symlink(join(outside, "secret.txt"), join(root, "file-link"));
      await mkdir(join(root, "real"));
      await writeFile(join(root, "real", "f.txt"), "inside");
      await symlink("real", join(root, "alias"), "dir");

      const repo = new LocalArtifactRepository(root);
      const rejected = isCode("INVALID_PARAMETER_VALUE");

      await assert.rejects(repo.get("link/secret.txt"), rejected, "read through a dir symlink");
      await assert.rejects(repo.get("file-link"), rejected, "read a file symlink");
      await assert.rejects(repo.put("link/evil.txt", Buffer.from("x")), rejected, "write through");
      await assert.rejects(repo.put("link/new/dir/evil.txt", Buffer.from("x")), rejected, "mkdir through");
      await assert.rejects(repo.list("link"), rejected, "list through");
      await assert.rejects(repo.delete("link/secret.txt"), rejected, "delete through");
      assert.deepEqual(await readdir(outside), ["secret.txt"], "nothing written outside");

      // Symlinks that stay inside the root work; escaping ones are hidden from listings.
      assert.equal((await readAll((await repo.get("alias/f.txt")).body)).toString(), "inside");
      assert.deepEqual(await repo.list(""), [
        { path: "alias", isDir: true },
        { path: "real", isDir: true },
      ]);

      // Deleting the link removes the link, never what it points to.
      await repo.delete("link");
      await repo.delete("file-link");
      assert.equal(await readFile(join(outside, "secret.txt"), "utf8"), "secret");
      assert.deepEqual((await readdir(root)).sort(), ["alias", "real"]);

      // A repository whose root is itself a symlink works through it.
      const viaLink = join(base, "root-link");
      await symlink(root, viaLink, "dir");
      const linked = new LocalArtifactRepository(viaLink);
      await linked.put("real/g.txt", Buffer.from("g"));
      assert.equal(await readFile(join(root, "real", "g.txt"), "utf8"), "g");
      await linked.delete("");
      assert.deepEqual(await readdir(root), []);
      assert.deepEqual(await readdir(outside), ["secret.txt"]);
    });
  });
});
