#!/usr/bin/env node
// The `slipway` command. The code lives in dist/ (built by `npm ci` through the root `prepare` script, or `npm run build`).

// `slipway llm serve`: one libuv worker thread, unless the user chose. node-llama-cpp runs every decode and
// every sampling step as a libuv work item; with libuv's default four threads they rotate over threads
// that the kernel then places badly on a small machine (llama.cpp's own compute thread and the one it
// starts per decode end up sharing a core: 4 ms scheduler slices in a spin-wait). One thread keeps them
// apart: measured in docs/llm-serving.md ("Engine settings"). It must be set before libuv's pool starts,
// hence here, before anything is imported.
if (process.argv[2] === "llm" && process.argv[3] === "serve" && process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = "1";
}
const { main } = await import("../dist/main.js");

process.exitCode = await main(process.argv);
