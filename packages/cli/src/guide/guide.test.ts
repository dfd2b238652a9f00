/**
 * Every runnable block of the guide (docs/guide/*.md) runs against a real tracking server started here, one server
 * and one working directory per chapter: a chapter whose snippet breaks fails the suite, naming the line.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startServerProcess } from "../testing/harness.js";
import { REPO_ROOT, runSnippets } from "./run-snippets.js";
import { parseSnippets, type Service, type Snippet } from "./snippets.js";

const GUIDE = join(REPO_ROOT, "docs", "guide");

const SERVICE_PORTS: Record<Service, number> = { postgres: 5432, redis: 6379 };

/** The services (of those given) that do not accept a TCP connection on their standard local port. */
async function missingServices(needs: readonly Service[]): Promise<Service[]> {
  const missing: Service[] = [];
  for (const service of new Set(needs)) {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: SERVICE_PORTS[service] });
      socket.setTimeout(1000);
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("timeout", () => (socket.destroy(), resolve(false)));
      socket.once("error", () => resolve(false));
    });
    if (!reachable) missing.push(service);
  }
  return missing;
}
const chapters = readdirSync(GUIDE)
  .filter((name) => /^\d\d-.*\.md$/.test(name))
  .sort();

test("the guide has its chapters", () => {
  assert.ok(chapters.length > 0, `no chapters in ${GUIDE}`);
});

for (const chapter of chapters) {
  let snippets: Snippet[];
  try {
    snippets = parseSnippets(readFileSync(join(GUIDE, chapter), "utf8"));
  } catch (error) {
    test(`guide: ${chapter}`, () => assert.fail(`docs/guide/${chapter}: ${(error as Error).message}`));
    continue;
  }
  test(
    `guide: ${chapter} (${snippets.length} runnable blocks)`,
    { skip: snippets.length === 0 && "no runnable blocks" },
    async (t) => {
      const missing = await missingServices(snippets.flatMap((s) => s.needs));
      if (missing.length > 0) {
        t.skip(`needs ${missing.join(" and ")}, not reachable on this machine`);
        return;
      }
      const server = await startServerProcess("slipway-guide-");
      const dir = await mkdtemp(join(tmpdir(), "slipway-guide-work-"));
      try {
        const failure = await runSnippets(snippets, { dir, trackingUri: server.url });
        if (failure) {
          assert.fail(
            `docs/guide/${chapter}:${failure.snippet.line}: ${failure.reason}\n--- block ---\n${failure.snippet.code}\n--- output ---\n${failure.output.slice(-4000)}`,
          );
        }
      } finally {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
