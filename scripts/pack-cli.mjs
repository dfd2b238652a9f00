#!/usr/bin/env node
// npm run pack:cli — builds a self-contained `slipway` tarball that `npm install -g` can install:
// the workspace packages it uses (protocol, sdk, server, and the web UI's built files) are bundled inside
// it, and their registry dependencies become the tarball's own dependencies. Output: ./pack/slipway-<version>.tgz
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const stage = join(root, "pack", "stage");
const read = (p) => JSON.parse(readFileSync(p, "utf8"));
const WORKSPACE = {
  "@slipway/protocol": "protocol",
  "@slipway/ml": "ml",
  "@slipway/sdk": "sdk",
  "@slipway/server": "server",
  "@slipway/ui": "ui",
};

rmSync(join(root, "pack"), { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const cli = read(join(root, "packages/cli/package.json"));
for (const dir of ["bin", "dist"]) cpSync(join(root, "packages/cli", dir), join(stage, dir), { recursive: true });

const dependencies = {};
const addExternal = (deps = {}) => {
  for (const [name, version] of Object.entries(deps)) if (!(name in WORKSPACE)) dependencies[name] = version;
};
addExternal(cli.dependencies);
for (const [name, dir] of Object.entries(WORKSPACE)) {
  const src = join(root, "packages", dir);
  const pkg = read(join(src, "package.json"));
  addExternal(pkg.dependencies);
  const dest = join(stage, "node_modules", ...name.split("/"));
  mkdirSync(dest, { recursive: true });
  cpSync(join(src, "dist"), join(dest, "dist"), {
    recursive: true,
    filter: (p) => !/\.test\.(js|d\.ts)(\.map)?$/.test(p) && !p.includes(`${join("dist", "testing")}`),
  });
  if (existsSync(join(src, "migrations")))
    cpSync(join(src, "migrations"), join(dest, "migrations"), { recursive: true });
  // npm installs a bundled package exactly as it is in the tarball, dependencies included; so the bundled
  // copies declare none, and their registry dependencies are declared (and fetched) at the top instead
  const { devDependencies: _dev, dependencies: _deps, ...rest } = pkg;
  writeFileSync(join(dest, "package.json"), JSON.stringify(rest, null, 2));
}
const manifest = {
  ...cli,
  dependencies: { ...dependencies, ...Object.fromEntries(Object.keys(WORKSPACE).map((n) => [n, cli.version])) },
  bundleDependencies: Object.keys(WORKSPACE),
  files: ["bin", "dist", "!dist/**/*.test.*"],
};
writeFileSync(join(stage, "package.json"), JSON.stringify(manifest, null, 2));
cpSync(join(root, "LICENSE"), join(stage, "LICENSE"));
const out = execFileSync("npm", ["pack", "--pack-destination", join(root, "pack")], { cwd: stage, encoding: "utf8" });
rmSync(stage, { recursive: true, force: true });
const file = out.trim().split("\n").at(-1);
console.log(`pack/${file}  (install with: npm install -g ./pack/${file} --allow-scripts=better-sqlite3)`);
