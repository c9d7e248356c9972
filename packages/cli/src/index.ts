export { LaunchError, type LaunchOptions, launchPlatform, type RunningPlatform } from './launcher.js';
export { type LocalPlatformSettings, localPlatformSettings, localServices } from './local-platform.js';
export { isBuilt, type LocalService } from './local-services.js';
export { isPortFree } from './port-check.js';
