/**
 * The guide's runnable code blocks. A fenced block whose info string carries `runnable` is executed by the guide's
 * test, in document order, in one working directory per chapter, against a real tracking server the test starts:
 *
 *     ```sh runnable                                  a shell block (bash -euo pipefail)
 *     ```ts runnable                                  a TypeScript module (run with tsx; imports @slipway/*)
 *     ```sh runnable background wait=http://127.0.0.1:8081/ping
 *                                                     started and left running until the chapter ends; the next
 *                                                     block waits until the URL answers 2xx
 *     ```sh runnable exit=1                          the exit status the block must end with (default 0)
 *     ```sh runnable expect="failed requests: 0"     a text the block's output must contain (repeatable)
 *     ```sh runnable timeout=120                     seconds before the block is killed (default 60)
 *     ```sh runnable needs=postgres                  a local service the block uses (postgres, redis): without
 *                                                     it the chapter is skipped, with a message naming it
 *
 * Blocks without `runnable` are illustrations (output samples, YAML shown for reading) and are not run.
 */

export type SnippetLanguage = "sh" | "ts";

export interface Snippet {
  language: SnippetLanguage;
  code: string;
  /** 1-based line of the opening fence, for error messages. */
  line: number;
  background: boolean;
  /** URL polled after a background block starts, until it answers 2xx. */
  waitFor?: string;
  exitCode: number;
  expect: string[];
  timeoutSeconds: number;
  /** Local services the block uses. */
  needs: Service[];
}

export const SERVICES = ["postgres", "redis"] as const;
export type Service = (typeof SERVICES)[number];

const FENCE = /^(`{3,}|~{3,})\s*([^\s`]*)(.*)$/;
const ATTRIBUTE = /([a-z-]+)(?:=("([^"]*)"|\S+))?/g;

/** The runnable blocks of a Markdown document, in order. Throws on a malformed attribute, naming its line. */
export function parseSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(fence)) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`line ${i + 1}: code block is never closed`);
    const attributes = parseAttributes(open[3]!, i + 1);
    if (attributes.has("runnable")) {
      const language = open[2]!;
      if (language !== "sh" && language !== "ts") {
        throw new Error(`line ${i + 1}: runnable blocks are sh or ts, not '${language || "(none)"}'`);
      }
      snippets.push(toSnippet(language, body.join("\n"), i + 1, attributes));
    }
    i = j;
  }
  return snippets;
}

function parseAttributes(text: string, line: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const rest = text.replace(ATTRIBUTE, (_all, name: string, raw: string | undefined, quoted: string | undefined) => {
    const value = quoted ?? raw ?? "";
    out.set(name, [...(out.get(name) ?? []), value]);
    return "";
  });
  if (rest.trim() !== "") throw new Error(`line ${line}: cannot read the block's attributes near '${rest.trim()}'`);
  return out;
}

function toSnippet(language: SnippetLanguage, code: string, line: number, attributes: Map<string, string[]>): Snippet {
  const known = new Set(["runnable", "background", "wait", "exit", "expect", "timeout", "needs"]);
  for (const name of attributes.keys()) {
    if (!known.has(name))
      throw new Error(`line ${line}: unknown attribute '${name}' (known: ${[...known].join(", ")})`);
  }
  const one = (name: string): string | undefined => attributes.get(name)?.at(-1);
  const integer = (name: string, fallback: number): number => {
    const text = one(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) throw new Error(`line ${line}: ${name}=${text} is not a whole number`);
    return Number(text);
  };
  const background = attributes.has("background");
  const waitFor = one("wait");
  if (waitFor !== undefined && !/^https?:\/\//.test(waitFor)) {
    throw new Error(`line ${line}: wait=${waitFor} is not an http(s) URL`);
  }
  if (waitFor !== undefined && !background) throw new Error(`line ${line}: wait= only applies to background blocks`);
  const needs = (attributes.get("needs") ?? []).flatMap((value) => value.split(","));
  for (const need of needs) {
    if (!(SERVICES as readonly string[]).includes(need)) {
      throw new Error(`line ${line}: needs=${need} is not a known service (${SERVICES.join(", ")})`);
    }
  }
  return {
    language,
    code,
    line,
    background,
    ...(waitFor === undefined ? {} : { waitFor }),
    exitCode: integer("exit", 0),
    expect: attributes.get("expect") ?? [],
    timeoutSeconds: integer("timeout", 60),
    needs: needs as Service[],
  };
}
