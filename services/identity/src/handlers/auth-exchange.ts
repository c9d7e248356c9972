/**
 * Lambda entry point of auth-exchange (bundled to dist/lambda/auth-exchange.mjs). Settings, clients
 * and tracing are made once per execution environment, during Lambda's init phase.
 */
import { createLogger, loadSettings } from '@stratus/core';
import { createAuthExchangeFunction } from '../app/auth-exchange-function.js';
import { configureLambdaTracing } from '../app/lambda-tracing.js';
import { authExchangeSettings } from '../config/settings.js';

const settings = loadSettings(authExchangeSettings, { envFile: false });

export const handler = createAuthExchangeFunction(settings, {
  logger: createLogger(settings),
  tracing: configureLambdaTracing(settings),
});
