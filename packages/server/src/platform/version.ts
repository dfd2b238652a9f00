import { readFileSync } from "node:fs";

/** The Slipway version, read once from this package's package.json. */
export function slipwayVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
