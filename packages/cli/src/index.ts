export { LaunchError, type LaunchOptions, launchPlatform, type RunningPlatform } from './launcher.js';
export {
  LOCAL_FILES_TOPIC_ARN,
  type LocalPlatformSettings,
  localPlatformSettings,
  localServices,
} from './local-platform.js';
export { isBuilt, type LocalService } from './local-services.js';
export { isPortFree } from './port-check.js';
