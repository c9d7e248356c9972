export { addEnvironment, createStratusApp, type EnvironmentStacks, stackName } from './app.js';
export * from './config/environments.js';
export * from './config/resolve-environment.js';
export * from './kubernetes/objects.js';
export * from './kubernetes/workloads.js';
