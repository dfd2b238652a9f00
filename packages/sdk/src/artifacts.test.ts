import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MlflowError } from "@slipway/protocol";
import { ArtifactClient, parseArtifactUri } from "./artifacts.js";
import { normalizeArtifactPath } from "./artifact-repository.js";
import { HttpTransport } from "./http-transport.js";
import { encodeArtifactPath } from "./proxy-artifact-repository.js";
import { FakeMlflow } from "./testing/fake-mlflow.js";

const server = new FakeMlflow();
let scratch: string;
let artifacts: ArtifactClient;
const RUN_URI = "mlflow-artifacts:/1/abc123/artifacts";
const ROOT = "1/abc123/artifacts";
const PROXY = "/api/2.0/mlflow-artifacts/artifacts";

before(async () => {
  await server.start();
  scratch = await mkdtemp(join(tmpdir(), "slipway-artifacts-"));
  artifacts = new ArtifactClient({
    transport: new HttpTransport({
      baseUrl: server.url,
      retry: { maxRetries: 2 },
      sleep: () => Promise.resolve(),
    }),
  });
});
after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
  server.canned.length = 0;
  server.artifacts.clear();
});

async function tree(): Promise<string> {
  const dir = await mkdtemp(join(scratch, "tree-"));
  await mkdir(join(dir, "sub", "deeper"), { recursive: true });
  await writeFile(join(dir, "top.txt"), "top");
  await writeFile(join(dir, "sub", "a b.json"), '{"a":1}');
  await writeFile(join(dir, "sub", "deeper", "z.bin"), Buffer.from([0, 1, 2, 255]));
  await mkdir(join(dir, "empty"));
  return dir;
}

test("parseArtifactUri", () => {
  assert.deepEqual(parseArtifactUri("mlflow-artifacts:/1/abc/artifacts"), {
    kind: "proxy",
    root: "1/abc/artifacts",
  });
  assert.deepEqual(parseArtifactUri("mlflow-artifacts://host:5000/1/abc/artifacts"), {
    kind: "proxy",
    authority: "host:5000",
    root: "1/abc/artifacts",
  });
  assert.deepEqual(parseArtifactUri("file:///srv/mlruns/1/abc/artifacts"), {
    kind: "local",
    directory: "/srv/mlruns/1/abc/artifacts",
  });
  assert.deepEqual(parseArtifactUri("/srv/mlruns/1"), {
    kind: "local",
    directory: "/srv/mlruns/1",
  });
  assert.deepEqual(parseArtifactUri("./mlruns/1"), { kind: "local", directory: "./mlruns/1" });
  assert.throws(
    () => parseArtifactUri("s3://bucket/x"),
    (e: unknown) => e instanceof MlflowError && /s3:/.test(e.message),
  );
});

test("artifact paths: normalised, never absolute or escaping", () => {
  assert.equal(normalizeArtifactPath(undefined), "");
  assert.equal(normalizeArtifactPath("a//b/./c/"), "a/b/c");
  for (const bad of ["../x", "a/../../x", "/etc/passwd", "a/.."]) {
    assert.throws(() => normalizeArtifactPath(bad), MlflowError, bad);
  }
  assert.equal(encodeArtifactPath("a b/c#d?/%e"), "a%20b/c%23d%3F/%25e");
});

test("logArtifact streams a file with PUT <root>/<artifactPath>/<name>, each segment encoded", async () => {
  const file = join(scratch, "model weights#1.bin");
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(file, data);
  const stored = await artifacts.logArtifact(RUN_URI, file, "models/v 1");
  assert.equal(stored, "models/v 1/model weights#1.bin");
  const [put] = server.requests;
  assert.equal(put!.method, "PUT");
  assert.equal(put!.path, `${PROXY}/${ROOT}/models/v%201/model%20weights%231.bin`);
  assert.equal(put!.headers["content-length"], String(data.length));
  assert.equal(put!.headers["transfer-encoding"], undefined);
  assert.ok(put!.body.equals(data));
  assert.ok(server.artifacts.get(`${ROOT}/models/v 1/model weights#1.bin`)!.equals(data));
});

test("an upload retried after a 503 re-reads the file from disk", async () => {
  const file = join(scratch, "retry.txt");
  await writeFile(file, "retry me");
  server.canned.push({ status: 503, pathPrefix: "/mlflow-artifacts/" });
  await artifacts.logArtifact(RUN_URI, file);
  assert.equal(server.requests.length, 2);
  assert.equal(server.requests[1]!.body.toString(), "retry me");
  assert.equal(server.artifacts.get(`${ROOT}/retry.txt`)!.toString(), "retry me");
});

test("logArtifacts uploads a directory tree recursively (its contents, under artifactPath)", async () => {
  const dir = await tree();
  const written = await artifacts.logArtifacts(RUN_URI, dir, "bundle");
  assert.deepEqual(written.sort(), ["bundle/sub/a b.json", "bundle/sub/deeper/z.bin", "bundle/top.txt"]);
  assert.deepEqual([...server.artifacts.keys()].sort(), [
    `${ROOT}/bundle/sub/a b.json`,
    `${ROOT}/bundle/sub/deeper/z.bin`,
    `${ROOT}/bundle/top.txt`,
  ]);
  assert.deepEqual([...server.artifacts.get(`${ROOT}/bundle/sub/deeper/z.bin`)!], [0, 1, 2, 255]);
  await assert.rejects(artifacts.logArtifacts(RUN_URI, join(dir, "top.txt")), MlflowError);
});

test("logText and logBytes", async () => {
  await artifacts.logText(RUN_URI, "héllo\n", "notes/readme.md");
  await artifacts.logBytes(RUN_URI, new Uint8Array([9, 8, 7]), "raw.bin");
  assert.equal(server.artifacts.get(`${ROOT}/notes/readme.md`)!.toString("utf8"), "héllo\n");
  assert.deepEqual([...server.artifacts.get(`${ROOT}/raw.bin`)!], [9, 8, 7]);
  assert.equal(server.requests[0]!.headers["content-type"], "text/markdown");
  await assert.rejects(artifacts.logText(RUN_URI, "x", ""), MlflowError);
  await assert.rejects(artifacts.logText(RUN_URI, "x", "../escape.txt"), MlflowError);
  assert.equal(server.requests.length, 2);
});

test("listArtifacts: GET ?path=<root/dir>, answers with root-relative paths; missing dir → []", async () => {
  await artifacts.logArtifacts(RUN_URI, await tree());
  server.requests.length = 0;
  const top = await artifacts.listArtifacts(RUN_URI);
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
  assert.deepEqual(top.sort(byPath), [
    { path: "sub", is_dir: true },
    { path: "top.txt", is_dir: false, file_size: 3 },
  ]);
  const sub = await artifacts.listArtifacts(RUN_URI, "sub");
  assert.deepEqual(new Set(sub.map((f) => f.path)), new Set(["sub/a b.json", "sub/deeper"]));
  assert.equal(server.requests[0]!.query.get("path"), ROOT);
  assert.equal(server.requests[1]!.query.get("path"), `${ROOT}/sub`);
  assert.deepEqual(await artifacts.listArtifacts(RUN_URI, "nothing/here"), []);
});

test("a listing with an unsafe name is refused", async () => {
  server.canned.push({
    status: 200,
    body: JSON.stringify({ files: [{ path: "../../etc", is_dir: true }] }),
  });
  await assert.rejects(
    artifacts.listArtifacts(RUN_URI),
    (e: unknown) => e instanceof MlflowError && /unsafe/.test(e.message),
  );
});

test("downloadArtifacts: one file, a directory tree, everything", async () => {
  await artifacts.logArtifacts(RUN_URI, await tree());
  const out = await mkdtemp(join(scratch, "dl-"));
  const file = await artifacts.downloadArtifacts(RUN_URI, "sub/a b.json", out);
  assert.equal(file, join(out, "sub", "a b.json"));
  assert.equal(await readFile(file, "utf8"), '{"a":1}');
  assert.ok(server.requests.some((r) => r.method === "GET" && r.path === `${PROXY}/${ROOT}/sub/a%20b.json`));

  const out2 = await mkdtemp(join(scratch, "dl-"));
  const dir = await artifacts.downloadArtifacts(RUN_URI, "sub", out2);
  assert.equal(dir, join(out2, "sub"));
  assert.deepEqual([...(await readFile(join(out2, "sub", "deeper", "z.bin")))], [0, 1, 2, 255]);

  const out3 = await mkdtemp(join(scratch, "dl-"));
  assert.equal(await artifacts.downloadArtifacts(RUN_URI, "", out3), out3);
  assert.deepEqual((await readdir(out3)).sort(), ["sub", "top.txt"]);
  assert.ok(!(await readdir(join(out3, "sub"))).some((n) => n.includes(".partial-")));

  await assert.rejects(
    artifacts.downloadArtifacts(RUN_URI, "missing.txt", out3),
    (e: unknown) => e instanceof MlflowError && e.status === 404,
  );
  assert.ok(!(await readdir(out3)).some((n) => n.includes("missing")));
});

test("deleteArtifacts sends DELETE; refuses the root", async () => {
  await artifacts.logText(RUN_URI, "x", "d/x.txt");
  await artifacts.deleteArtifacts(RUN_URI, "d");
  assert.equal(server.requests.at(-1)!.method, "DELETE");
  assert.equal(server.requests.at(-1)!.path, `${PROXY}/${ROOT}/d`);
  assert.equal(server.artifacts.size, 0);
  await assert.rejects(artifacts.deleteArtifacts(RUN_URI, ""), MlflowError);
});

test("mlflow-artifacts://host:port/... goes to that host", async () => {
  const elsewhere = new ArtifactClient({
    transport: new HttpTransport({ baseUrl: "http://127.0.0.1:9", retry: { maxRetries: 0 } }),
  });
  const host = new URL(server.url).host;
  await elsewhere.logText(`mlflow-artifacts://${host}/7/r/artifacts`, "hi", "a.txt");
  assert.equal(server.artifacts.get("7/r/artifacts/a.txt")!.toString(), "hi");
});

for (const flavour of ["file URI", "plain path"] as const) {
  test(`local artifact root (${flavour}): written and read directly, no HTTP`, async () => {
    const root = await mkdtemp(join(scratch, "local-root-"));
    const uri = flavour === "file URI" ? pathToFileURL(root).href : root;
    const dir = await tree();
    await symlink(join(dir, "top.txt"), join(dir, "link.txt"));
    await artifacts.logArtifacts(uri, dir, "bundle");
    await artifacts.logArtifact(uri, join(dir, "top.txt"));
    await artifacts.logText(uri, "text", "notes/n.txt");
    assert.equal(await readFile(join(root, "bundle", "sub", "deeper", "z.bin")).then((b) => b.length), 4);
    assert.equal(await readFile(join(root, "bundle", "link.txt"), "utf8"), "top");
    assert.equal(await readFile(join(root, "notes", "n.txt"), "utf8"), "text");
    const listed = await artifacts.listArtifacts(uri, "bundle");
    assert.deepEqual(
      listed.map((f) => f.path),
      ["bundle/link.txt", "bundle/sub", "bundle/top.txt"],
    );
    assert.deepEqual(listed[2], { path: "bundle/top.txt", is_dir: false, file_size: 3 });
    assert.deepEqual(await artifacts.listArtifacts(uri, "missing"), []);
    const out = await mkdtemp(join(scratch, "local-dl-"));
    await artifacts.downloadArtifacts(uri, "bundle", out);
    assert.equal(await readFile(join(out, "bundle", "sub", "a b.json"), "utf8"), '{"a":1}');
    await artifacts.downloadArtifacts(uri, "notes/n.txt", out);
    assert.equal(await readFile(join(out, "notes", "n.txt"), "utf8"), "text");
    await artifacts.deleteArtifacts(uri, "notes");
    assert.deepEqual(
      (await artifacts.listArtifacts(uri)).map((f) => f.path),
      ["bundle", "top.txt"],
    );
    await assert.rejects(artifacts.logText(uri, "x", "../../escape"), MlflowError);
    await assert.rejects(
      artifacts.downloadArtifacts(uri, "nope.txt", out),
      (e: unknown) => e instanceof MlflowError && e.code === "RESOURCE_DOES_NOT_EXIST",
    );
    assert.equal(server.requests.length, 0);
  });
}
