// Builds the web UI into dist/web, which `slipway server` hosts at /. Everything is bundled: no CDN at run time.
// `npx vite` (in packages/ui) serves it with hot reload, proxying the API to SLIPWAY_TRACKING_URI.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.SLIPWAY_TRACKING_URI ?? "http://127.0.0.1:5000";
const protocolDir = fileURLToPath(new URL("../protocol/", import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: "dist/web",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      // @slipway/protocol builds TypeBox schemas at module level; the UI uses a few of its functions and
      // its types, so let the bundler drop the schemas it never reads
      treeshake: { moduleSideEffects: (id) => !id.startsWith(protocolDir) },
    },
  },
  server: { proxy: { "/api": api, "/ajax-api": api } },
});
