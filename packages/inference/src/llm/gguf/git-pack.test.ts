import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { deflateSync } from "node:zlib";
import { GitPack, applyDelta, parseGitBundle } from "./git-pack.js";

const TYPES = { commit: 1, tree: 2, blob: 3, ofsDelta: 6 } as const;

function id(type: string, data: Buffer): Buffer {
  return createHash("sha1").update(`${type} ${data.length}\0`).update(data).digest();
}

function objectHeader(type: number, size: number): Buffer {
  const bytes = [((type & 7) << 4) | (size & 15)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80;
    bytes.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

function ofsEncoding(back: number): Buffer {
  const bytes = [back & 0x7f];
  let n = Math.floor(back / 128);
  while (n > 0) {
    n -= 1;
    bytes.unshift(0x80 | (n & 0x7f));
    n = Math.floor(n / 128);
  }
  return Buffer.from(bytes);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

function treeEntry(mode: string, name: string, objectId: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${mode} ${name}\0`), objectId]);
}

/** A bundle with: commit → tree { a.txt, dir/ { b.txt } }, where b.txt is stored as a delta of a.txt. */
function makeBundle(): { bundle: Buffer; a: Buffer; b: Buffer } {
  const a = Buffer.from("hello, vocabulary\n".repeat(20));
  const b = Buffer.concat([a.subarray(0, 100), Buffer.from("CHANGED"), a.subarray(100)]);
  // delta: copy 100 bytes from 0, insert "CHANGED", copy the rest
  const delta = Buffer.concat([
    varint(a.length),
    varint(b.length),
    Buffer.from([0x80 | 0x10, 100]), // copy, offset 0 (no offset bytes), size 100
    Buffer.from([7]),
    Buffer.from("CHANGED"),
    Buffer.from([0x80 | 0x01 | 0x10 | 0x20, 100, (a.length - 100) & 0xff, (a.length - 100) >> 8]),
  ]);
  const subtree = treeEntry("100644", "b.txt", id("blob", b));
  const tree = Buffer.concat([
    treeEntry("100644", "a.txt", id("blob", a)),
    treeEntry("40000", "dir", id("tree", subtree)),
  ]);
  const commit = Buffer.from(`tree ${id("tree", tree).toString("hex")}\nauthor x <x> 0 +0000\n\nmessage\n`);

  const parts: Buffer[] = [];
  let offset = 12;
  const add = (chunk: Buffer) => {
    parts.push(chunk);
    offset += chunk.length;
  };
  const aOffset = offset;
  add(Buffer.concat([objectHeader(TYPES.blob, a.length), deflateSync(a)]));
  const deltaOffset = offset;
  add(
    Buffer.concat([objectHeader(TYPES.ofsDelta, delta.length), ofsEncoding(deltaOffset - aOffset), deflateSync(delta)]),
  );
  add(Buffer.concat([objectHeader(TYPES.tree, subtree.length), deflateSync(subtree)]));
  add(Buffer.concat([objectHeader(TYPES.tree, tree.length), deflateSync(tree)]));
  add(Buffer.concat([objectHeader(TYPES.commit, commit.length), deflateSync(commit)]));
  const head = Buffer.alloc(12);
  head.write("PACK", 0, "latin1");
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(5, 8);
  const pack = Buffer.concat([head, ...parts]);
  const trailer = createHash("sha1").update(pack).digest();
  const bundle = Buffer.concat([
    Buffer.from(`# v2 git bundle\n${id("commit", commit).toString("hex")} HEAD\n\n`),
    pack,
    trailer,
  ]);
  return { bundle, a, b };
}

describe("git bundles", () => {
  it("reads files by path, including one stored as a delta", () => {
    const { bundle, a, b } = makeBundle();
    const parsed = parseGitBundle(bundle);
    const head = parsed.refs.get("HEAD")!;
    const pack = new GitPack(parsed.pack);
    assert.deepEqual(pack.readFile(head, "a.txt"), a);
    assert.deepEqual(pack.readFile(head, "dir/b.txt"), b);
    assert.throws(() => pack.readFile(head, "dir/missing.txt"), /no 'dir\/missing.txt'/);
    assert.throws(() => pack.readFile(head, "a.txt/x"), /not a directory/);
  });

  it("rejects what is not a bundle or a pack", () => {
    assert.throws(() => parseGitBundle(Buffer.from("hello\n\n")), /not a git bundle/);
    assert.throws(() => new GitPack(Buffer.from("NOPE00000000")), /not a git pack/);
  });

  it("applies copy and insert instructions, and checks sizes", () => {
    const base = Buffer.from("abcdefgh");
    const delta = Buffer.from([8, 6, 0x91, 2, 3, 2, 0x58, 0x59, 0x90, 1]);
    assert.equal(applyDelta(base, delta).toString(), "cdeXYa");
    assert.throws(() => applyDelta(Buffer.from("abc"), delta), /base of 8 bytes/);
  });
});
