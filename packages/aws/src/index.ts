// Everything; a service that needs one part imports its entry point (`@stratus/aws/<part>`, see
// package.json `exports`) and loads only what that part needs.
export * from './credentials.js';
export * from './events.js';
export * from './objects.js';
export * from './opensearch.js';
export * from './secrets.js';
export * from './settings.js';
export * from './sigv4.js';
export * from './sns.js';
