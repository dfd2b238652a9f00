import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseMLmodel, slipwayFlavor, type ModelPackageFiles } from "@slipway/ml";
import { saveModelPackage } from "./save-model-package.js";

const scratch = await mkdtemp(join(tmpdir(), "slipway-save-package-"));
after(() => rm(scratch, { recursive: true, force: true }));

const pkg = (): ModelPackageFiles => ({
  mlmodel: { flavors: slipwayFlavor({ predictor: "text-classifier", data: "weights/pipeline.json" }) },
  files: new Map<string, Uint8Array | string>([
    ["weights/pipeline.json", '{"a":1}'],
    ["head.onnx", new Uint8Array([8, 8])],
  ]),
});

test("saveModelPackage writes every file (nested too) and the MLmodel", async () => {
  const dir = join(scratch, "ok");
  await saveModelPackage(dir, pkg());
  assert.deepEqual((await readdir(dir)).sort(), ["MLmodel", "head.onnx", "weights"]);
  assert.equal(await readFile(join(dir, "weights", "pipeline.json"), "utf8"), '{"a":1}');
  assert.deepEqual([...(await readFile(join(dir, "head.onnx")))], [8, 8]);
  const mlmodel = parseMLmodel(await readFile(join(dir, "MLmodel"), "utf8"));
  assert.equal((mlmodel.flavors.slipway as { predictor: string }).predictor, "text-classifier");
});

test("saveModelPackage refuses a non-empty directory, a missing data file and a path leaving the package", async () => {
  const dir = join(scratch, "twice");
  await saveModelPackage(dir, pkg());
  await assert.rejects(saveModelPackage(dir, pkg()), /is not empty/);
  const missing = pkg();
  missing.files.delete("weights/pipeline.json");
  await assert.rejects(saveModelPackage(join(scratch, "missing"), missing), /weights\/pipeline\.json/);
  const escaping = pkg();
  escaping.files.set("../evil.txt", "x");
  await assert.rejects(saveModelPackage(join(scratch, "escaping"), escaping), /must not leave the package/);
  // nothing was written: no escaped file, no partial directory
  assert.deepEqual((await readdir(scratch)).sort(), ["ok", "twice"]);
});
