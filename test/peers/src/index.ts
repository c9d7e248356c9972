export * from './aws-peer.js';
export * from './eventbridge-peer.js';
export * from './opensearch-peer.js';
export * from './sigv4-verifier.js';
export * from './sts-peer.js';
export * from './test-jwt.js';
export * from './otlp-receiver.js';
export * from './otlp-receiver.js';
