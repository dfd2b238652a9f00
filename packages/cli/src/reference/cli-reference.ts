/**
 * The CLI reference (docs/guide/reference/cli.md), rendered from the commander definitions the `slipway` command
 * itself parses with, so the reference cannot drift from the code: a test compares the committed file with a fresh
 * rendering, and `npm run docs:reference` rewrites it.
 */
import type { Argument, Command, Option } from "commander";

export const CLI_REFERENCE_PATH = "docs/guide/reference/cli.md";

/** Renders every command and subcommand of `program`, depth first in registration order. */
export function renderCliReference(program: Command): string {
  const lines: string[] = [
    "# CLI reference",
    "",
    "<!-- Generated from the CLI's own definitions by `npm run docs:reference`; do not edit by hand. -->",
    "",
    `Every \`${program.name()}\` command and flag. \`${program.name()} COMMAND --help\` prints the same text in a terminal.`,
    "Exit codes: 0 success, 1 failure (a failed gate, an unreachable server, an error from the API), 2 bad usage.",
    "",
    "## Commands",
    "",
  ];
  const all = walk(program, []);
  for (const { command, path } of all) {
    if (path.length === 0) continue;
    const indent = "  ".repeat(path.length - 1);
    lines.push(`${indent}- [\`${path.join(" ")}\`](#${anchor(path)}) — ${firstLine(command.description())}`);
  }
  lines.push("");
  lines.push("## Global options", "", ...renderOptions(visibleOptions(program)), "");
  for (const { command, path } of all) {
    if (path.length === 0) continue;
    lines.push(...renderCommand(program.name(), command, path), "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

interface Entry {
  command: Command;
  path: string[];
}

function walk(command: Command, path: string[]): Entry[] {
  const out: Entry[] = [{ command, path }];
  for (const sub of command.commands) {
    if ((sub as Command & { _hidden?: boolean })._hidden) continue;
    out.push(...walk(sub, [...path, sub.name()]));
  }
  return out;
}

function renderCommand(root: string, command: Command, path: string[]): string[] {
  const heading = "#".repeat(Math.min(2 + path.length - 1, 4));
  const lines = [`${heading} ${path.join(" ")}`, ""];
  const description = command.description();
  if (description) lines.push(escapeProse(description), "");
  const aliases = command.aliases();
  if (aliases.length > 0) lines.push(`Aliases: ${aliases.map((a) => `\`${a}\``).join(", ")}`, "");
  const hasSubcommands = command.commands.length > 0;
  const usage = hasSubcommands && command.registeredArguments.length === 0 ? "COMMAND [options]" : command.usage();
  lines.push("```text", `${root} ${path.join(" ")} ${usage}`.trimEnd(), "```", "");
  const args = command.registeredArguments;
  if (args.length > 0) {
    lines.push("| Argument | Required | Description |", "| --- | --- | --- |");
    for (const arg of args)
      lines.push(`| \`${argumentLabel(arg)}\` | ${arg.required ? "yes" : "no"} | ${cell(arg.description)} |`);
    lines.push("");
  }
  const options = visibleOptions(command);
  if (options.length > 0) lines.push(...renderOptions(options), "");
  if (hasSubcommands) {
    lines.push(
      `Subcommands: ${command.commands.map((sub) => `[\`${sub.name()}\`](#${anchor([...path, sub.name()])})`).join(", ")}`,
      "",
    );
  }
  return lines.slice(0, lines.length - 1);
}

function renderOptions(options: readonly Option[]): string[] {
  const lines = ["| Option | Description | Default |", "| --- | --- | --- |"];
  for (const option of options) {
    const flags = `\`${option.flags.replace(/\|/g, "\\|")}\``;
    const choices = option.argChoices ? ` One of: ${option.argChoices.map((c) => `\`${c}\``).join(", ")}.` : "";
    const env = option.envVar ? ` Environment: \`${option.envVar}\`.` : "";
    const required = option.mandatory ? " **Required.**" : "";
    lines.push(`| ${flags} | ${cell(option.description)}${choices}${env}${required} | ${defaultText(option)} |`);
  }
  return lines;
}

function visibleOptions(command: Command): Option[] {
  return command.options.filter((option) => !option.hidden);
}

function defaultText(option: Option): string {
  if (option.defaultValueDescription) return cell(option.defaultValueDescription);
  const value: unknown = option.defaultValue;
  if (value === undefined || option.negate) return "";
  return `\`${cell(typeof value === "string" ? value : JSON.stringify(value))}\``;
}

function argumentLabel(arg: Argument): string {
  const name = arg.name() + (arg.variadic ? "..." : "");
  return arg.required ? `<${name}>` : `[${name}]`;
}

/** GitHub's heading anchors: lower case, spaces to hyphens, punctuation dropped. */
function anchor(path: readonly string[]): string {
  return path
    .join(" ")
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

function firstLine(text: string): string {
  return escapeProse(text.split("\n")[0] ?? "");
}

/** Table cells: one line, pipes escaped. */
function cell(text: string): string {
  return escapeProse(text)
    .replace(/\s*\n\s*/g, " ")
    .replace(/\|/g, "\\|");
}

/** Angle brackets in descriptions (`<uri>`) would be read as HTML by Markdown renderers. */
function escapeProse(text: string): string {
  return text.replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
