/** The keys file: validation with precise messages, constant-time matching, atomic appends. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  API_KEY_PREFIX,
  ApiKeyring,
  ApiKeysError,
  appendApiKeyEntry,
  generateApiKey,
  hashApiKey,
  parseApiKeys,
  readApiKeysFile,
} from "./api-keys.js";
import { TtlLruCache } from "./lru-cache.js";

describe("API keys", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-api-keys-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("generates 256-bit keys with the sk-slw- prefix, and matches only the right one", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    assert.ok(a.startsWith(API_KEY_PREFIX));
    assert.equal(a.length, API_KEY_PREFIX.length + 43);
    assert.notEqual(a, b);
    const ring = new ApiKeyring(
      parseApiKeys(
        [
          { name: "a", sha256: hashApiKey(a) },
          { name: "b", sha256: hashApiKey(b), rpm: 3 },
        ],
        "t",
      ),
    );
    assert.equal(ring.match(a)?.name, "a");
    assert.equal(ring.match(b)?.rpm, 3);
    assert.equal(ring.match(`${a}x`), undefined);
    assert.equal(ring.match(""), undefined);
  });

  it("refuses malformed entries with the entry and the field named", () => {
    const cases: [unknown, RegExp][] = [
      [{ keys: [{ name: "a" }] }, /keys\[0\] \(a\): 'sha256' must be 64 hex digits/],
      [{ keys: [{ name: "bad name!", sha256: "0".repeat(64) }] }, /keys\[0\]: 'name' must be 1 to 64/],
      [{ keys: [{ name: "a", sha256: "0".repeat(64), rpm: 0 }] }, /'rpm' must be a positive integer, got 0/],
      [{ keys: [{ name: "a", sha256: "0".repeat(64), tpm: 1.5 }] }, /'tpm' must be a positive integer/],
      [{ keys: [{ name: "a", sha256: "0".repeat(64), models: "x" }] }, /'models' must be a list/],
      [{ keys: [{ name: "a", sha256: "0".repeat(64), key: "sk-plain" }] }, /unknown field 'key'/],
      [
        {
          keys: [
            { name: "a", sha256: "0".repeat(64) },
            { name: "a", sha256: "1".repeat(64) },
          ],
        },
        /'a' is used twice/,
      ],
      [
        {
          keys: [
            { name: "a", sha256: "0".repeat(64) },
            { name: "b", sha256: "0".repeat(64) },
          ],
        },
        /repeats another/,
      ],
      [{ key: [] }, /unknown field 'key' \(expected 'keys'\)/],
      [{ keys: 3 }, /expected 'keys:' with a list/],
    ];
    for (const [document, message] of cases) {
      assert.throws(
        () => parseApiKeys(document, "keys.yaml"),
        (e: unknown) => e instanceof ApiKeysError && message.test(e.message),
        JSON.stringify(document),
      );
    }
    assert.deepEqual(parseApiKeys(null, "empty"), []);
  });

  it("appends atomically: concurrent writers lose no key, the file is 0600 and holds only hashes", async () => {
    const file = join(dir, "keys.json");
    const keys = Array.from({ length: 8 }, () => generateApiKey());
    await Promise.all(
      keys.map((key, i) => appendApiKeyEntry(file, { name: `k${i}`, sha256: hashApiKey(key), tpm: 100 })),
    );
    const ring = await readApiKeysFile(file);
    assert.equal(ring.size, 8);
    for (const [i, key] of keys.entries()) assert.equal(ring.match(key)?.name, `k${i}`);
    const text = await readFile(file, "utf8");
    for (const key of keys) assert.ok(!text.includes(key), "plain keys are never written");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ["keys.json"], "no temporary or lock file left");
    await assert.rejects(
      appendApiKeyEntry(file, { name: "k3", sha256: hashApiKey(generateApiKey()) }),
      /'k3' exists already/,
    );
    assert.equal((await readApiKeysFile(file)).size, 8);
  });

  it("refuses to append to a file that is not a keys file, leaving it as it was", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, "{ not json");
    await assert.rejects(
      appendApiKeyEntry(file, { name: "x", sha256: "a".repeat(64) }),
      /broken.json: not a valid keys file/,
    );
    assert.equal(await readFile(file, "utf8"), "{ not json");
    await assert.rejects(readApiKeysFile(join(dir, "missing.json")), /does not exist/);
  });
});

describe("TtlLruCache", () => {
  it("expires entries and evicts the least recently used", () => {
    let now = 0;
    const cache = new TtlLruCache<number>(2, () => now);
    cache.set("a", 1, 100);
    cache.set("b", 2, 100);
    assert.equal(cache.get("a"), 1);
    cache.set("c", 3, 100);
    assert.equal(cache.get("b"), undefined, "b was the least recently used");
    assert.equal(cache.get("a"), 1);
    now = 100;
    assert.equal(cache.get("a"), undefined, "expired");
    assert.equal(cache.size, 1);
  });
});
