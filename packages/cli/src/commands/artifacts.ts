import type { Command } from "commander";
import { stat } from "node:fs/promises";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";

async function artifactUriOf(
  flags: ClientFlags,
  runId: string,
): Promise<{ uri: string; client: ReturnType<typeof clientFor> }> {
  const client = clientFor(flags);
  const { run } = await client.getRun({ run_id: runId });
  return { uri: run.info.artifact_uri, client };
}

export function registerArtifacts(program: Command): void {
  const artifacts = program.command("artifacts").description("Upload, list and download a run's artifacts");

  artifacts
    .command("log")
    .description("Upload a file or a directory (recursively) to a run's artifacts")
    .argument("<run-id>", "run id")
    .argument("<local-path>", "file or directory to upload")
    .option("--artifact-path <path>", "directory inside the run's artifacts (default: the root)")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, localPath: string, flags: ClientFlags & { artifactPath?: string }) => {
      const info = await stat(localPath).catch(() => undefined);
      if (!info) throw new UsageError(`${localPath}: no such file or directory`);
      const { uri, client } = await artifactUriOf(flags, runId);
      const uploaded = info.isDirectory()
        ? await client.artifacts.logArtifacts(uri, localPath, flags.artifactPath)
        : [await client.artifacts.logArtifact(uri, localPath, flags.artifactPath)];
      const out = stdoutOutput(flags.json === true);
      out.write(
        out.json
          ? JSON.stringify({ run_id: runId, uploaded })
          : `Uploaded ${uploaded.length} file(s) to ${uri}${flags.artifactPath ? `/${flags.artifactPath}` : ""}`,
      );
    });

  artifacts
    .command("list")
    .description("List a run's artifacts (one directory level)")
    .argument("<run-id>", "run id")
    .option("--path <path>", "directory inside the run's artifacts")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, flags: ClientFlags & { path?: string }) => {
      const { uri, client } = await artifactUriOf(flags, runId);
      const files = await client.artifacts.listArtifacts(uri, flags.path);
      const out = stdoutOutput(flags.json === true);
      out.write(
        out.json
          ? JSON.stringify(files)
          : table(
              ["PATH", "TYPE", "SIZE"],
              files.map((f) => [f.path, f.is_dir ? "dir" : "file", f.is_dir ? "" : (f.file_size ?? 0)]),
            ),
      );
    });

  artifacts
    .command("download")
    .description("Download a file or directory of a run's artifacts")
    .argument("<run-id>", "run id")
    .option("--path <path>", "file or directory inside the run's artifacts (default: everything)", "")
    .option("--dst <dir>", "local directory to write into", ".")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable output")
    .action(async (runId: string, flags: ClientFlags & { path: string; dst: string }) => {
      const { uri, client } = await artifactUriOf(flags, runId);
      const local = await client.artifacts.downloadArtifacts(uri, flags.path, flags.dst);
      const out = stdoutOutput(flags.json === true);
      out.write(out.json ? JSON.stringify({ run_id: runId, local_path: local }) : `Downloaded to ${local}`);
    });
}
