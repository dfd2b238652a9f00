/** The embedded llama.cpp engine keeps the provider contract (on the tiny random-weight model). */
import type { Llama } from "node-llama-cpp";
import { llmProviderContract } from "../engine/llm-provider.contract.js";
import { openLlama } from "../serve-llm.js";
import { writeTinyModel, type TinyModel } from "../testing/llm-test-server.js";
import { LlamaCppProvider } from "./llama-provider.js";

llmProviderContract("llama.cpp", async () => {
  const model: TinyModel = await writeTinyModel();
  const llama: Llama = await openLlama({ gpu: false, logLevel: "error" });
  const provider = await LlamaCppProvider.open({
    llama,
    name: "tiny",
    modelPath: model.path,
    parallel: 2,
    contextSize: 512,
    threads: 1,
  });
  return {
    provider,
    model: "tiny",
    contextLength: provider.contextSize,
    close: async () => {
      await provider.close();
      await llama.dispose();
      await model.remove();
    },
  };
});
