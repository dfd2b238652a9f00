#!/usr/bin/env node
// The `slipway` command. The code lives in dist/ (built by `npm ci` through the root `prepare` script, or `npm run build`).
import { main } from "../dist/main.js";

process.exitCode = await main(process.argv);
