/**
 * node-llama-cpp, loaded on first use: importing it costs most of a second, which every `slipway`
 * command and every user of `@slipway/inference` would otherwise pay at startup, LLM or not. (The
 * module loader keeps the loaded module; nothing is cached here.)
 */
import type * as NodeLlamaCppModule from "node-llama-cpp";

export type NodeLlamaCpp = typeof NodeLlamaCppModule;

export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  return import("node-llama-cpp");
}
