export * from "./anderson.js";
export * from "./binning.js";
export * from "./categorical.js";
export { cramerVonMises2, cramerVonMises2FromSorted, type CramerVonMisesResult } from "./cramer-von-mises.js";
export * from "./divergences.js";
export * from "./epps-singleton.js";
export * from "./kolmogorov.js";
export * from "./ks.js";
export * from "./location.js";
export { populationStd, sortedFinite, sortFloat64 } from "./sorted.js";
export {
  betaInc,
  chi2Sf,
  erf,
  erfc,
  gammaP,
  gammaQ,
  lnGamma,
  normalCdf,
  normalSf,
  studentTSf,
  studentTTwoSided,
} from "./special.js";
export * from "./wasserstein.js";
