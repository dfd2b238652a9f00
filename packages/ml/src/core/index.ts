export * from "./errors.js";
export * from "./matrix.js";
export * from "./random.js";
