/**
 * A large artifact upload streams: the client's memory stays far below the file's size. (Node 20's fetch held the
 * whole body: uploading 300 MB peaked at 360 MB RSS; node:http streams it — see node-http-fetch.ts.)
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { open, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const SIZE = 256 * 1024 * 1024;
let server: Server;
let received = 0;
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-upload-memory-"));
  // a sparse file: 256 MB to read, no disk space used
  const handle = await open(join(dir, "big.bin"), "w");
  await handle.truncate(SIZE);
  await handle.close();
  // an artifact proxy that reads and drops what it is sent
  server = createServer((request, response) => {
    request.on("data", (chunk: Buffer) => (received += chunk.length));
    request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

test("uploading a 256 MB file keeps the client's peak memory far below the file's size", async () => {
  const sdk = fileURLToPath(new URL("./index.js", import.meta.url));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const script = `
    import { readFileSync } from "node:fs";
    const { ArtifactClient, HttpTransport } = await import(${JSON.stringify(sdk)});
    const artifacts = new ArtifactClient({ transport: new HttpTransport({ baseUrl: ${JSON.stringify(url)} }) });
    await artifacts.logArtifact("mlflow-artifacts:/1/run/artifacts", ${JSON.stringify(join(dir, "big.bin"))});
    console.log(/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
  `;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", script], (error, out, err) => {
      if (error) reject(new Error(`the upload failed: ${err}`, { cause: error }));
      else resolve(out);
    }),
  );
  const peakMb = Number(stdout.trim()) / 1024;
  assert.equal(received, SIZE);
  assert.ok(peakMb < 160, `peak RSS ${peakMb.toFixed(0)} MB while uploading ${SIZE / 2 ** 20} MB`);
});
