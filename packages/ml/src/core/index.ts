export * from "./errors.js";
export * from "./linear.js";
export * from "./matrix.js";
export * from "./random.js";
export * from "./eigen.js";
