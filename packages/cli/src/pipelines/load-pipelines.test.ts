/** Loading a pipelines file: what counts as a pipeline export, and the usage errors for bad files. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError } from "../errors.js";
import { loadPipelines, pipelineNamed } from "./load-pipelines.js";

const SDK = new URL(import.meta.resolve("@slipway/sdk")).href;
let dir: string;
let n = 0;

before(async () => (dir = await mkdtemp(join(tmpdir(), "slipway-load-"))));
after(() => rm(dir, { recursive: true, force: true }));

async function file(body: string): Promise<string> {
  const path = join(dir, `p${n++}.mjs`);
  await writeFile(
    path,
    `import { definePipeline, step } from ${JSON.stringify(SDK)};\nconst run = () => null;\n${body}\n`,
  );
  return path;
}

const usageError = (pattern: RegExp) => (error: Error) => {
  assert.ok(error instanceof UsageError, String(error));
  assert.match(error.message, pattern);
  return true;
};

describe("loadPipelines", () => {
  it("takes named exports and lists (default or named), once each, and parses schedules", async () => {
    const path = await file(`
      export const a = definePipeline({ name: "a", schedule: ["0 3 * * *", "@hourly"], steps: { s: step({ run }) } });
      const b = definePipeline({ name: "b", steps: { s: step({ run }) } });
      export const all = [a, b];
      export default [b];
      export const notAPipeline = { name: "c" };`);
    const loaded = await loadPipelines(path);
    assert.equal(loaded.file, path);
    assert.deepEqual([...loaded.pipelines.keys()], ["a", "b"]);
    assert.deepEqual(
      loaded.schedules.get("a")!.map((s) => s.expression),
      ["0 3 * * *", "@hourly"],
    );
    assert.equal(
      loaded.schedules.get("a")![0]!.next(Date.parse("2026-03-03T10:00:00Z")),
      Date.parse("2026-03-04T03:00:00Z"),
    );
    assert.equal(pipelineNamed(loaded, "b", "f.mjs").name, "b");
    assert.throws(
      () => pipelineNamed(loaded, "x", "f.mjs"),
      usageError(/^no pipeline 'x' in f.mjs \(its pipelines: a, b\)$/),
    );
  });

  it("refuses missing files, files without pipelines, duplicates, bad definitions and bad schedules", async () => {
    await assert.rejects(loadPipelines(join(dir, "missing.mjs")), usageError(/missing.mjs does not exist/));
    await assert.rejects(loadPipelines(await file("export const x = 1;")), usageError(/exports no pipeline/));
    await assert.rejects(
      loadPipelines(
        await file(`
        export const one = definePipeline({ name: "same", steps: { s: step({ run }) } });
        export const two = definePipeline({ name: "same", steps: { t: step({ run }) } });`),
      ),
      usageError(/two different pipelines are named 'same' \(the second is export two\)/),
    );
    await assert.rejects(
      loadPipelines(
        await file(`export const p = definePipeline({ name: "p", steps: { a: step({ needs: ["b"], run }) } });`),
      ),
      usageError(/p\d+\.mjs: pipeline 'p': step 'a' needs 'b', which is not a step of this pipeline/),
    );
    await assert.rejects(
      loadPipelines(
        await file(
          `export const p = definePipeline({ name: "p", schedule: "61 * * * *", steps: { a: step({ run }) } });`,
        ),
      ),
      usageError(/pipeline 'p': schedule '61 \* \* \* \*': minute field '61': 61 is out of range 0-59/),
    );
    await assert.rejects(
      loadPipelines(await file(`throw new Error("broken module");`)),
      (error: Error) => !(error instanceof UsageError) && /^cannot load .*: broken module$/.test(error.message),
    );
  });
});
