import { baseServiceSettings, envInteger, port } from '@stratus/core';
import { z } from 'zod';
import type { LocalService } from './local-services.js';

/** The launcher's own settings: where each service listens locally. */
export const localPlatformSettings = baseServiceSettings.extend({
  SERVICE_NAME: baseServiceSettings.shape.SERVICE_NAME.default('local-platform'),
  HOST: z.string().min(1).default('127.0.0.1'),
  FILE_PROCESSING_PORT: port(8080),
  LOCAL_READY_TIMEOUT_MS: envInteger(60_000, 1),
});

export type LocalPlatformSettings = z.output<typeof localPlatformSettings>;

/** The topic local deliveries come from; only local mode trusts it. */
export const LOCAL_FILES_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:stratus-local-files';

/**
 * Every service the local platform runs, with the settings that make it work with no cloud account:
 * job state in PGlite under `.stratus/`, objects under `./data/<bucket>/<key>`.
 * Evaluation metrics (needs Langfuse) and identity (needs STS and DynamoDB stand-ins) join when the
 * local stack provides those peers.
 */
export function localServices(settings: LocalPlatformSettings): LocalService[] {
  return [
    {
      name: 'file-processing',
      entry: 'services/file-processing/dist/main.js',
      args: ['serve'],
      portSetting: 'FILE_PROCESSING_PORT',
      port: settings.FILE_PROCESSING_PORT,
      env: {
        ENVIRONMENT: 'local',
        LOG_LEVEL: settings.LOG_LEVEL,
        SNS_TOPIC_ARN_ALLOWLIST: LOCAL_FILES_TOPIC_ARN,
        LOCAL_S3_ROOT: 'data',
        JOBS_DATA_DIR: '.stratus/file-processing/jobs',
      },
    },
  ];
}
