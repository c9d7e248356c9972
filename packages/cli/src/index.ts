export { createDashboard, type DashboardSources } from './dashboard-server.js';
export {
  type DeliveryLedger,
  DeliveryLoop,
  type DeliveryLoopOptions,
  filesToDeliver,
  isWatchedKey,
  type ScannedFile,
} from './delivery-loop.js';
export {
  assertLaunchable,
  LaunchError,
  type LauncherPort,
  type LaunchOptions,
  launchPlatform,
  type RunningPlatform,
} from './launcher.js';
export {
  LOCAL_FILES_TOPIC_ARN,
  type LocalPlatformSettings,
  localPlatformSettings,
  localServicePlacements,
  localServices,
} from './local-platform.js';
export { isBuilt, type LocalService, type ServicePlacement } from './local-services.js';
export { signInLocally, unmarshallItem } from './local-sign-in.js';
export { isPortFree } from './port-check.js';
export { type LocalStandIns, startLocalStandIns } from './stand-ins.js';
export { parseSpanLines, type TraceWaterfall, traceWaterfalls } from './trace-waterfall.js';
