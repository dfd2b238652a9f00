/**
 * The upstream provider keeps the provider contract, against a real LLM server on the tiny model as
 * its upstream (the suite's requests ask for whole answers; streaming through an upstream is covered
 * end to end in upstream-routing.test.ts, since a stream's prompt tokens are known only at its end).
 */
import { Registry } from "prom-client";
import { llmProviderContract } from "../engine/llm-provider.contract.js";
import { startLlmTestServer, writeTinyModel } from "../testing/llm-test-server.js";
import { buildRoutingConfig } from "./routing-config.js";
import { UpstreamMetrics } from "./upstream-metrics.js";
import { UpstreamProvider } from "./upstream-provider.js";

llmProviderContract("upstream (OpenAI-compatible, a real Slipway server behind it)", async () => {
  const model = await writeTinyModel();
  const server = await startLlmTestServer({ modelPath: model.path, parallel: 2, contextSize: 512 });
  const { routes } = buildRoutingConfig({
    flags: { upstream: [`remote=${server.baseURL}@model=tiny`] },
    embedded: [],
    env: {},
  });
  const provider = new UpstreamProvider({ route: routes[0]!, metrics: new UpstreamMetrics(new Registry()) });
  provider.open();
  return {
    provider,
    model: "remote",
    contextLength: 512,
    close: async () => {
      await provider.close();
      await server.close();
      await model.remove();
    },
  };
});
