// npm start: the whole platform on one machine, on loopback, with embedded defaults.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s3ObjectCreatedEvent } from '@stratus/aws/events';
import { createLogger, loadSettingsOrExit, prefersPrettyOutput } from '@stratus/core';
import { createDashboard } from './dashboard-server.js';
import { DeliveryLoop } from './delivery-loop.js';
import {
  assertLaunchable,
  LaunchError,
  launchPlatform,
  portInUse,
  type RunningPlatform,
} from './launcher.js';
import {
  LOCAL_GROUND_TRUTH_BUCKET,
  LOCAL_RESULTS_PREFIX,
  LOCAL_SNS_KEYS_FILE,
  LOCAL_USERS_TABLE,
  langfuseConnection,
  localPgliteTemplate,
  localPlatformSettings,
  localServicePlacements,
  localServices,
} from './local-platform.js';
import { placeSamples, SAMPLE_PREFIX } from './local-samples.js';
import { signInLocally } from './local-sign-in.js';
import { type LocalStandIns, startLocalStandIns } from './stand-ins.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageRoot, '..', '..');
const parsed = loadSettingsOrExit(localPlatformSettings);
// Children run in the repo root; the folders are the caller's, so they are made absolute here.
const settings = {
  ...parsed,
  LOCAL_DATA_DIR: resolve(parsed.LOCAL_DATA_DIR),
  LOCAL_STATE_DIR: resolve(parsed.LOCAL_STATE_DIR),
};
const logger = createLogger(settings);
const dashboardPort = { name: 'dashboard', port: settings.DASHBOARD_PORT, portSetting: 'DASHBOARD_PORT' };

let standIns: LocalStandIns | undefined;
let platform: RunningPlatform | undefined;
let stopping = false;
/** Ctrl-C while starting stops what has started so far; once running, `stop` below takes over. */
let stop = async (reason: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ event: 'platform_stopping', reason }, `stopping (${reason}) while starting`);
  await platform?.stop();
  await standIns?.stop();
  process.exit(1);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
try {
  await assertLaunchable({ repoRoot, host: settings.HOST, services: localServicePlacements(settings) }, [
    dashboardPort,
  ]);
  const [firstRun, started, pgliteTemplate] = await Promise.all([
    placeSamples({
      samplesDir: join(packageRoot, 'samples'),
      dataDir: settings.LOCAL_DATA_DIR,
      filesBucket: settings.LOCAL_FILES_BUCKET,
      groundTruthBucket: LOCAL_GROUND_TRUTH_BUCKET,
    }),
    startLocalStandIns({
      stateDir: settings.LOCAL_STATE_DIR,
      snsKeysFile: LOCAL_SNS_KEYS_FILE,
      ...(settings.AWS_ACCESS_KEY_ID && settings.AWS_SECRET_ACCESS_KEY
        ? {
            callerCredentials: {
              accessKeyId: settings.AWS_ACCESS_KEY_ID,
              secretAccessKey: settings.AWS_SECRET_ACCESS_KEY,
              ...(settings.AWS_SESSION_TOKEN ? { sessionToken: settings.AWS_SESSION_TOKEN } : {}),
            },
          }
        : {}),
      samplesDir: join(packageRoot, 'samples'),
      // The one variable read directly: it is Node's, passed on to the services, not a Stratus setting.
      ...(process.env.NODE_EXTRA_CA_CERTS
        ? { inheritedExtraCaCertificates: process.env.NODE_EXTRA_CA_CERTS }
        : {}),
    }),
    // Made at install; made here (one initdb, instead of one per service) if it has gone missing.
    localPgliteTemplate(),
  ]);
  standIns = started;
  const services = localServices(settings, standIns, pgliteTemplate);
  const url = (port: number) => `http://${settings.HOST}:${port}`;
  const identityUrl = url(settings.IDENTITY_PORT);
  const fileProcessingUrl = url(settings.FILE_PROCESSING_PORT);
  const localStandIns = standIns;
  // The services are the slow part of start-up: they are started first, the rest while they load.
  const launching = launchPlatform({
    repoRoot,
    host: settings.HOST,
    services,
    logger,
    readyTimeoutMs: settings.LOCAL_READY_TIMEOUT_MS,
    prettyLines: prefersPrettyOutput(settings.ENVIRONMENT, process.stdout.isTTY === true),
  });
  // Its failure is handled where it is awaited below; this keeps it from counting as unhandled meanwhile.
  launching.catch(() => {});
  const dashboard = await createDashboard(
    { ...settings, SERVICE_NAME: 'dashboard', PORT: settings.DASHBOARD_PORT },
    {
      services: [
        ...services.map((service) => ({ name: service.name, url: url(service.port) })),
        { name: 'dashboard', url: url(settings.DASHBOARD_PORT) },
      ],
      fileProcessingUrl,
      langfuse: langfuseConnection(settings, standIns),
      tracesDir: join(settings.LOCAL_STATE_DIR, 'traces'),
      signIn: (email) => signInLocally(email, identityUrl, localStandIns),
      staticDir: join(packageRoot, 'dashboard'),
    },
    logger.child({ component: 'dashboard' }),
  );
  const [launched, dashboardUrl] = await Promise.all([
    launching,
    dashboard.listen().catch((error: NodeJS.ErrnoException) => {
      // Taken since the check at start: the same one-line message as then.
      if (error.code !== 'EADDRINUSE') throw error;
      throw portInUse(settings.HOST, dashboardPort);
    }),
    // Identity writes profiles only on a sign-in, well after this.
    standIns.dynamoDb.createTable(LOCAL_USERS_TABLE, 'userId'),
  ]);
  platform = launched;
  const readyAfterMs = Math.round(performance.now());

  // S3 -> SNS -> listener, as in AWS: the listener confirms its subscription, then files are announced.
  const subscribed = await standIns.sns.subscribe(`${fileProcessingUrl}/`);
  if (!subscribed.subscription.confirmed)
    throw new LaunchError(
      `file-processing did not confirm the local SNS subscription (HTTP ${subscribed.status}: ${subscribed.body.slice(0, 300)})`,
    );
  const sns = standIns.sns;
  const deliveries = new DeliveryLoop({
    dataDir: settings.LOCAL_DATA_DIR,
    bucket: settings.LOCAL_FILES_BUCKET,
    ignoredPrefixes: [LOCAL_RESULTS_PREFIX],
    intervalMs: settings.LOCAL_SCAN_INTERVAL_MS,
    ledgerFile: join(settings.LOCAL_STATE_DIR, 'delivered.json'),
    logger: logger.child({ component: 'delivery-loop' }),
    async deliver(object) {
      const results = await sns.publish(JSON.stringify(s3ObjectCreatedEvent(object)), {
        Subject: 'Amazon S3 Notification',
      });
      const refused = results.find((result) => result.status >= 300);
      if (results.length === 0 || refused)
        throw new Error(
          `the listener answered ${refused?.status ?? 'nothing'}: ${refused?.body.slice(0, 300) ?? ''}`,
        );
    },
  });
  await deliveries.start();

  const watched = join(settings.LOCAL_DATA_DIR, settings.LOCAL_FILES_BUCKET, SAMPLE_PREFIX);
  logger.info(
    {
      event: 'platform_ready',
      ready_after_ms: readyAfterMs,
      subscribed_after_ms: Math.round(performance.now()),
      urls: { ...launched.urls, dashboard: dashboardUrl },
    },
    [
      `every service ready in ${readyAfterMs} ms.`,
      `Dashboard: ${dashboardUrl}`,
      firstRun ? 'The sample CSV files are on their way: watch their jobs on the dashboard.' : '',
      `Next: copy a CSV into ${watched} and watch its job reach Done. Ctrl-C stops everything.`,
    ]
      .filter(Boolean)
      .join(' '),
  );

  stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'platform_stopping', reason }, `stopping (${reason})`);
    await deliveries.stop();
    const [clean] = await Promise.all([launched.stop(), dashboard.close()]);
    await standIns?.stop();
    logger.info(
      { event: 'platform_stopped', clean },
      clean ? 'stopped' : 'stopped; a service did not exit cleanly',
    );
    process.exit(clean ? 0 : 1);
  };
  launched.firstExit.then(({ name, code }) => {
    if (!stopping) {
      logger.error({ event: 'service_exited', service: name, code }, `${name} exited with code ${code}`);
      void stop(`${name} exited`);
    }
  });
} catch (error) {
  await platform?.stop();
  await standIns?.stop();
  if (!(error instanceof LaunchError)) throw error;
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exit(1);
}
