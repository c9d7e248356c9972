export * from './assignment.js';
export * from './evaluate.js';
export * from './ground-truth.js';
export * from './json-path.js';
export * from './metrics.js';
export * from './normalise.js';
export * from './scores.js';
export * from './spec.js';
