import { baseServiceSettings, envInteger, port } from '@stratus/core';
import { z } from 'zod';
import type { LocalService } from './local-services.js';

/** The launcher's own settings: where each service listens locally. */
export const localPlatformSettings = baseServiceSettings.extend({
  SERVICE_NAME: baseServiceSettings.shape.SERVICE_NAME.default('local-platform'),
  HOST: z.string().min(1).default('127.0.0.1'),
  FILE_PROCESSING_PORT: port(8080),
  EVAL_METRICS_PORT: port(8081),
  IDENTITY_PORT: port(8082),
  LOCAL_READY_TIMEOUT_MS: envInteger(20_000, 1),
});

export type LocalPlatformSettings = z.output<typeof localPlatformSettings>;

/** Every service of the local platform, with the settings that make it run with no cloud account. */
export function localServices(settings: LocalPlatformSettings): LocalService[] {
  const shared = { ENVIRONMENT: 'local', LOG_LEVEL: settings.LOG_LEVEL };
  return [
    {
      name: 'file-processing',
      entry: 'services/file-processing/dist/main.js',
      args: [],
      portSetting: 'FILE_PROCESSING_PORT',
      port: settings.FILE_PROCESSING_PORT,
      env: { ...shared },
    },
    {
      name: 'eval-metrics',
      entry: 'services/eval-metrics/dist/main.js',
      args: [],
      portSetting: 'EVAL_METRICS_PORT',
      port: settings.EVAL_METRICS_PORT,
      env: { ...shared },
    },
    {
      name: 'identity',
      entry: 'services/identity/dist/main.js',
      args: [],
      portSetting: 'IDENTITY_PORT',
      port: settings.IDENTITY_PORT,
      env: { ...shared },
    },
  ];
}
