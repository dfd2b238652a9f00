/**
 * Reads one file out of a git bundle without git: the bundle's header names the commit, its pack holds
 * the commit, the trees and the blobs (zlib-compressed, some stored as deltas against other objects).
 *
 * node-llama-cpp ships the llama.cpp source it was built from as such a bundle; the tokenizer files
 * under `models/` are what the test-model writer needs. The pack has no index, so the reader walks it
 * once (every object has to be inflated to find where the next begins), keeps commits and trees, hashes
 * every full object, and resolves deltas only when the file asked for is one.
 *
 * Formats (git's documentation, gitformat-bundle and gitformat-pack): bundle = `# v2 git bundle` (or v3
 * with `@capability` lines), `-<sha>` prerequisites, `<sha> <ref>` lines, an empty line, then a pack:
 * `PACK`, u32 version, u32 object count, objects. Object header: type in bits 4–6 of the first byte,
 * size in a little-endian base-128 varint; OFS_DELTA adds the base's negative offset, REF_DELTA the
 * base's 20-byte id.
 */
import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";

const OBJ_COMMIT = 1;
const OBJ_TREE = 2;
const OBJ_BLOB = 3;
const OBJ_TAG = 4;
const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;

const TYPE_NAMES: Record<number, string> = {
  [OBJ_COMMIT]: "commit",
  [OBJ_TREE]: "tree",
  [OBJ_BLOB]: "blob",
  [OBJ_TAG]: "tag",
};

export class GitPackError extends Error {
  override readonly name = "GitPackError";
}

/** The refs a bundle names and the pack it carries. */
export interface GitBundle {
  /** Ref name (`HEAD`, `refs/heads/main`...) → object id (hex). */
  readonly refs: ReadonlyMap<string, string>;
  readonly pack: Buffer;
}

export function parseGitBundle(bytes: Buffer): GitBundle {
  const refs = new Map<string, string>();
  let pos = 0;
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end === -1) throw new GitPackError("truncated git bundle header");
    const text = bytes.toString("utf8", pos, end);
    pos = end + 1;
    return text;
  };
  const signature = line();
  if (signature !== "# v2 git bundle" && signature !== "# v3 git bundle") {
    throw new GitPackError(`not a git bundle (first line '${signature.slice(0, 40)}')`);
  }
  for (;;) {
    const text = line();
    if (text === "") break;
    if (text.startsWith("@") || text.startsWith("-")) continue;
    const space = text.indexOf(" ");
    if (space !== 40) throw new GitPackError(`bad ref line in git bundle: '${text.slice(0, 80)}'`);
    refs.set(text.slice(41), text.slice(0, 40));
  }
  return { refs, pack: bytes.subarray(pos) };
}

interface PackEntry {
  /** Offset of the object's header in the pack. */
  readonly offset: number;
  readonly type: number;
  /** Offset of the zlib stream. */
  readonly dataStart: number;
  /** OFS_DELTA: offset of the base object. */
  readonly baseOffset?: number;
  /** REF_DELTA: id of the base object. */
  readonly baseId?: string;
}

interface ResolvedObject {
  readonly type: number;
  readonly data: Buffer;
}

/** An index over one pack: objects by offset, full objects by id, deltas resolved on demand. */
export class GitPack {
  private readonly entries: PackEntry[] = [];
  private readonly byOffset = new Map<number, PackEntry>();
  private readonly idToOffset = new Map<string, number>();
  /** Commits and trees, kept inflated (they are small): offset → data. */
  private readonly small = new Map<number, Buffer>();
  private deltasHashed = false;

  constructor(private readonly pack: Buffer) {
    if (pack.length < 12 || pack.toString("latin1", 0, 4) !== "PACK") throw new GitPackError("not a git pack");
    const version = pack.readUInt32BE(4);
    if (version !== 2 && version !== 3) throw new GitPackError(`unsupported pack version ${version}`);
    const count = pack.readUInt32BE(8);
    let pos = 12;
    for (let i = 0; i < count; i++) {
      const offset = pos;
      let c = this.byte(pos++);
      const type = (c >> 4) & 7;
      while (c & 0x80) c = this.byte(pos++);
      let baseOffset: number | undefined;
      let baseId: string | undefined;
      if (type === OBJ_OFS_DELTA) {
        c = this.byte(pos++);
        let back = c & 0x7f;
        while (c & 0x80) {
          c = this.byte(pos++);
          back = (back + 1) * 128 + (c & 0x7f);
        }
        baseOffset = offset - back;
      } else if (type === OBJ_REF_DELTA) {
        baseId = pack.toString("hex", pos, pos + 20);
        pos += 20;
      } else if (!(type in TYPE_NAMES)) {
        throw new GitPackError(`unknown object type ${type} at offset ${offset}`);
      }
      const { buffer, engine } = inflateSync(pack.subarray(pos), { info: true }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      const entry: PackEntry = {
        offset,
        type,
        dataStart: pos,
        ...(baseOffset === undefined ? {} : { baseOffset }),
        ...(baseId === undefined ? {} : { baseId }),
      };
      this.entries.push(entry);
      this.byOffset.set(offset, entry);
      if (type !== OBJ_OFS_DELTA && type !== OBJ_REF_DELTA) {
        this.idToOffset.set(objectId(type, buffer), offset);
        if (type === OBJ_COMMIT || type === OBJ_TREE) this.small.set(offset, buffer);
      }
      pos += engine.bytesWritten;
    }
  }

  /** The content of the file at `path` (slash-separated) in the tree of commit `commitId`. */
  readFile(commitId: string, path: string): Buffer {
    const commit = this.object(commitId);
    if (commit.type !== OBJ_COMMIT) throw new GitPackError(`${commitId} is not a commit`);
    const treeLine = /^tree ([0-9a-f]{40})$/m.exec(commit.data.toString("utf8"));
    if (!treeLine) throw new GitPackError(`commit ${commitId} names no tree`);
    let id = treeLine[1]!;
    const parts = path.split("/").filter((p) => p !== "");
    for (const [i, part] of parts.entries()) {
      const tree = this.object(id);
      if (tree.type !== OBJ_TREE) throw new GitPackError(`'${parts.slice(0, i).join("/")}' is not a directory`);
      const child = treeEntry(tree.data, part);
      if (child === undefined) throw new GitPackError(`no '${parts.slice(0, i + 1).join("/")}' in the bundle's tree`);
      id = child;
    }
    const blob = this.object(id);
    if (blob.type !== OBJ_BLOB) throw new GitPackError(`'${path}' is not a file`);
    return blob.data;
  }

  private byte(pos: number): number {
    const c = this.pack[pos];
    if (c === undefined) throw new GitPackError("truncated git pack");
    return c;
  }

  private object(id: string): ResolvedObject {
    let offset = this.idToOffset.get(id);
    if (offset === undefined && !this.deltasHashed) {
      this.hashDeltas();
      offset = this.idToOffset.get(id);
    }
    if (offset === undefined) throw new GitPackError(`object ${id} is not in the pack`);
    return this.resolve(offset, new Map());
  }

  /** Resolves every delta once, so that objects stored as deltas can be found by id. */
  private hashDeltas(): void {
    const cache = new Map<number, ResolvedObject>();
    for (const entry of this.entries) {
      if (entry.type !== OBJ_OFS_DELTA && entry.type !== OBJ_REF_DELTA) continue;
      const resolved = this.resolve(entry.offset, cache);
      this.idToOffset.set(objectId(resolved.type, resolved.data), entry.offset);
    }
    this.deltasHashed = true;
  }

  /** The full object at `offset`; `cache` holds resolved bases for the duration of one walk. */
  private resolve(offset: number, cache: Map<number, ResolvedObject>): ResolvedObject {
    const cached = cache.get(offset);
    if (cached) return cached;
    const entry = this.byOffset.get(offset);
    if (!entry) throw new GitPackError(`no object at pack offset ${offset}`);
    const small = this.small.get(offset);
    if (small) return { type: entry.type, data: small };
    const data = inflateSync(this.pack.subarray(entry.dataStart));
    if (entry.type !== OBJ_OFS_DELTA && entry.type !== OBJ_REF_DELTA) return { type: entry.type, data };
    let baseOffset = entry.baseOffset;
    if (baseOffset === undefined) {
      baseOffset = this.idToOffset.get(entry.baseId ?? "");
      if (baseOffset === undefined) throw new GitPackError(`delta base ${entry.baseId} is not in the pack`);
    }
    const base = this.resolve(baseOffset, cache);
    const resolved = { type: base.type, data: applyDelta(base.data, data) };
    // bases are reused by later deltas of the same chain; keep the cache bounded
    if (cache.size > 16) cache.clear();
    cache.set(offset, resolved);
    return resolved;
  }
}

/** Applies a git delta (copy and insert instructions) to `base`. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[pos++] ?? 0;
      value += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return value;
  };
  const sourceSize = varint();
  if (sourceSize !== base.length)
    throw new GitPackError(`delta expects a base of ${sourceSize} bytes, got ${base.length}`);
  const out = Buffer.allocUnsafe(varint());
  let outPos = 0;
  while (pos < delta.length) {
    const op = delta[pos++]!;
    if (op & 0x80) {
      let copyOffset = 0;
      let copySize = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) copyOffset += (delta[pos++] ?? 0) * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (1 << (4 + bit))) copySize += (delta[pos++] ?? 0) << (8 * bit);
      if (copySize === 0) copySize = 0x10000;
      if (copyOffset + copySize > base.length || outPos + copySize > out.length) {
        throw new GitPackError("delta copies outside its base or result");
      }
      base.copy(out, outPos, copyOffset, copyOffset + copySize);
      outPos += copySize;
    } else if (op !== 0) {
      if (pos + op > delta.length || outPos + op > out.length) throw new GitPackError("delta inserts past its end");
      delta.copy(out, outPos, pos, pos + op);
      pos += op;
      outPos += op;
    } else {
      throw new GitPackError("reserved delta instruction 0");
    }
  }
  if (outPos !== out.length) throw new GitPackError(`delta produced ${outPos} of ${out.length} bytes`);
  return out;
}

function objectId(type: number, data: Buffer): string {
  return createHash("sha1").update(`${TYPE_NAMES[type]} ${data.length}\0`).update(data).digest("hex");
}

/** The id of `name` in a tree object (entries: `<mode> <name>\0<20-byte id>`). */
function treeEntry(tree: Buffer, name: string): string | undefined {
  let pos = 0;
  while (pos < tree.length) {
    const space = tree.indexOf(0x20, pos);
    const nul = tree.indexOf(0, space);
    if (space === -1 || nul === -1) throw new GitPackError("malformed tree object");
    const entryName = tree.toString("utf8", space + 1, nul);
    if (entryName === name) return tree.toString("hex", nul + 1, nul + 21);
    pos = nul + 21;
  }
  return undefined;
}
