#!/usr/bin/env node
// npm start: the whole platform on one machine, on loopback, with embedded defaults.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadSettingsOrExit } from '@stratus/core';
import { LaunchError, launchPlatform } from './launcher.js';
import { localPlatformSettings, localServices } from './local-platform.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const settings = loadSettingsOrExit(localPlatformSettings);
const logger = createLogger(settings);

try {
  const platform = await launchPlatform({
    repoRoot,
    host: settings.HOST,
    services: localServices(settings),
    logger,
    readyTimeoutMs: settings.LOCAL_READY_TIMEOUT_MS,
  });
  logger.info(
    { event: 'platform_ready', ready_after_ms: platform.readyAfterMs, urls: platform.urls },
    `every service ready in ${platform.readyAfterMs} ms: ${Object.entries(platform.urls)
      .map(([name, url]) => `${name} ${url}`)
      .join(', ')}. Ctrl-C stops everything.`,
  );

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'platform_stopping', reason }, `stopping (${reason})`);
    const clean = await platform.stop();
    logger.info(
      { event: 'platform_stopped', clean },
      clean ? 'stopped' : 'stopped; a service did not exit cleanly',
    );
    process.exit(clean ? 0 : 1);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  platform.firstExit.then(({ name, code }) => {
    if (!stopping) {
      logger.error({ event: 'service_exited', service: name, code }, `${name} exited with code ${code}`);
      void stop(`${name} exited`);
    }
  });
} catch (error) {
  if (!(error instanceof LaunchError)) throw error;
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exit(1);
}
