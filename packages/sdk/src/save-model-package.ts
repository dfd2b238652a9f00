/**
 * Writing a model package built in memory (e.g. `textClassifierPackage` from `@slipway/ml`) to a local
 * directory, and logging one straight to a run. The `MLmodel` file is written last, so a directory with
 * an `MLmodel` is complete.
 */
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  MLMODEL_FILE_NAME,
  checkPackageFiles,
  checkRelativePath,
  writeMLmodel,
  type ModelPackageFiles,
} from "@slipway/ml";
import { MlflowError } from "@slipway/protocol";
import { logModel, type LogModelOptions, type LoggedModel } from "./model-package.js";
import type { ActiveRun } from "./run.js";

/**
 * Writes the package into `dir` (it must be empty or absent). Every path is checked before anything is
 * written, and the files go to a sibling directory renamed into place, so `dir` never holds half a package.
 */
export async function saveModelPackage(dir: string, pkg: ModelPackageFiles): Promise<void> {
  checkPackageFiles(pkg.mlmodel, pkg.files.keys());
  const entries = [...pkg.files]
    .filter(([path]) => path !== MLMODEL_FILE_NAME)
    .map(([path, content]) => ({ segments: checkRelativePath(`files['${path}']`, path).split("/"), content }));
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `'${dir}' is not empty: save a model package into a new directory`,
    );
  }
  await mkdir(dirname(dir), { recursive: true });
  const partial = await mkdtemp(`${dir}.partial-`);
  try {
    for (const { segments, content } of entries) {
      const target = join(partial, ...segments);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    await writeFile(join(partial, MLMODEL_FILE_NAME), writeMLmodel(pkg.mlmodel));
    if (existing) await rmdir(dir);
    await rename(partial, dir);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the package to a temporary directory, logs it to `run` under `artifactPath`, and removes the directory. */
export async function logModelPackage(
  run: ActiveRun,
  pkg: ModelPackageFiles,
  artifactPath: string,
  options: LogModelOptions = {},
): Promise<LoggedModel> {
  const scratch = await mkdtemp(join(tmpdir(), "slipway-package-"));
  try {
    const dir = join(scratch, "model");
    await saveModelPackage(dir, pkg);
    return await logModel(run, dir, artifactPath, options);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
