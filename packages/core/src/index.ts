export { ServiceError, isServiceError } from './errors.js';
export { withLogContext, currentLogContext, type LogContext } from './logging/log-context.js';
export { createLogger, type CreateLoggerOptions, type Logger } from './logging/logger.js';
export { redactValue, redactText } from './logging/redaction.js';
export {
  loadSettings,
  loadSettingsOrExit,
  redactSettings,
  SettingsError,
  REDACTED,
  type SettingsIssue,
  type LoadSettingsOptions,
} from './settings/load-settings.js';
export {
  secret,
  isSecretField,
  envBoolean,
  envInteger,
  port,
  logLevels,
  environments,
  baseServiceSettings,
  awsSettings,
  tracingSettings,
  fullSettings,
  httpSettings,
  awsRegionOf,
  type BaseServiceSettings,
  type AwsSettings,
  type TracingSettings,
  type FullSettings,
  type HttpSettings,
} from './settings/schemas.js';
export {
  createService,
  type CreateServiceOptions,
  type Service,
  type ServiceApp,
  type ServiceSettings,
} from './http/service.js';
export { errorBodyOf, toServiceError } from './http/error-model.js';
export type { ReadinessCheck } from './http/readiness.js';
export { StatsRegistry, type Counter } from './http/stats.js';
export type { ZodTypeProvider } from './http/zod-routes.js';
export {
  errorBody,
  healthBody,
  readyBody,
  readinessCheckResult,
  statsBody,
  type ErrorBody,
  type HealthBody,
  type ReadyBody,
  type ReadinessCheckResult,
  type StatsBody,
} from './http/models.js';
