/**
 * Lambda entry point of user-profile (bundled to dist/lambda/user-profile.mjs). Settings, the
 * DynamoDB client and tracing are made once per execution environment, during Lambda's init phase.
 */
import { createLogger, loadSettings } from '@stratus/core';
import { configureLambdaTracing } from '../app/lambda-tracing.js';
import { createUserProfileFunction } from '../app/user-profile-function.js';
import { userProfileSettings } from '../config/settings.js';

const settings = loadSettings(userProfileSettings, { envFile: false });

export const handler = createUserProfileFunction(settings, {
  logger: createLogger(settings),
  tracing: configureLambdaTracing(settings),
});
