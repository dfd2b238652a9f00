/** Parsing of numeric settings (flags and environment variables) shared by the servers' configurations. */

/**
 * `text` as an integer in [min, max], undefined when absent or empty; otherwise `fail` builds the error
 * (each configuration throws its own error class), with a message naming the setting.
 */
export function integerSetting(
  setting: { name: string; text: string | undefined; min: number; max: number },
  fail: (message: string) => Error,
): number | undefined {
  const { name, text, min, max } = setting;
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw fail(`${name}: '${text}' is not an integer from ${min} to ${max}`);
  }
  return n;
}
