export * from "./errors.js";
export * from "./flavors.js";
export * from "./mlmodel.js";
export * from "./signature.js";
export * from "./signature-check.js";
export { parsePythonJson, pythonJson } from "./python-json.js";
