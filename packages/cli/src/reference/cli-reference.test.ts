import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { buildProgram } from "../main.js";
import { CLI_REFERENCE_PATH, renderCliReference } from "./cli-reference.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

test("the committed CLI reference is the one the CLI's definitions render (run `npm run docs:reference` to update)", () => {
  const committed = readFileSync(resolve(repoRoot, CLI_REFERENCE_PATH), "utf8");
  assert.equal(committed, renderCliReference(buildProgram()));
});

test("the CLI reference lists every command with its flags, defaults and environment variables", () => {
  const program = buildProgram();
  const text = renderCliReference(program);
  for (const command of program.commands) {
    assert.match(text, new RegExp(`^## ${command.name()}$`, "m"), command.name());
    for (const option of command.options) {
      if (!option.hidden)
        assert.ok(text.includes(`\`${option.flags.replace(/\|/g, "\\|")}\``), `${command.name()} ${option.flags}`);
    }
    for (const sub of command.commands) assert.match(text, new RegExp(`^### ${command.name()} ${sub.name()}$`, "m"));
  }
  // a flag's description with angle brackets is escaped, never read as an HTML tag
  const prose = text
    .replace(/```text[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "")
    .replace(/<!--.*-->/g, "");
  assert.doesNotMatch(prose, /<[a-z]/);
});
