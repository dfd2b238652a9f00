export * from "./text-classifier.js";
export * from "./text-classifier-package.js";
