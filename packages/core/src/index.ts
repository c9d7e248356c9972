export { isServiceError, ServiceError } from './errors.js';
export { writeFileAtomically } from './files/write-file-atomically.js';
export { errorBodyOf, toServiceError } from './http/error-model.js';
export {
  type ErrorBody,
  errorBody,
  type HealthBody,
  healthBody,
  type ReadinessCheckResult,
  type ReadyBody,
  readinessCheckResult,
  readyBody,
  type StatsBody,
  statsBody,
} from './http/models.js';
export type { ReadinessCheck } from './http/readiness.js';
export {
  type CreateServiceOptions,
  createService,
  type Service,
  type ServiceApp,
  type ServiceSettings,
} from './http/service.js';
export { type Counter, StatsRegistry } from './http/stats.js';
export type { ZodTypeProvider } from './http/zod-routes.js';
export { currentLogContext, type LogContext, withLogContext } from './logging/log-context.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  prefersPrettyOutput,
} from './logging/logger.js';
export { redactText, redactValue } from './logging/redaction.js';
export { type ApiKeyAuthOptions, apiKeyAuth } from './service-client/api-key-auth.js';
export {
  type ApiKeySource,
  CachedApiKeySource,
  type CachedApiKeySourceOptions,
  DEFAULT_API_KEY_TTL_MS,
  staticApiKey,
} from './service-client/api-key-source.js';
export { ServiceCallError, type ServiceCallErrorCode } from './service-client/service-call-error.js';
export {
  type CallOptions,
  createServiceClient,
  type HttpMethod,
  retryAfterMs,
  type ServiceClient,
  type ServiceClientOptions,
} from './service-client/service-client.js';
export {
  type LoadSettingsOptions,
  loadSettings,
  loadSettingsOrExit,
  REDACTED,
  redactSettings,
  SettingsError,
  type SettingsIssue,
} from './settings/load-settings.js';
export {
  type AwsSettings,
  awsRegionOf,
  awsSettings,
  type BaseServiceSettings,
  baseServiceSettings,
  envBoolean,
  envInteger,
  environments,
  type FullSettings,
  fullSettings,
  type HttpSettings,
  httpSettings,
  isSecretField,
  logLevels,
  port,
  secret,
  type TracingSettings,
  tracingSettings,
} from './settings/schemas.js';
export { configureTracing, type Tracing, type TracingSetup } from './tracing/configure-tracing.js';
export type { SpanLine } from './tracing/json-lines-exporter.js';
export {
  DEFAULT_SAMPLING_RULE,
  parseSamplingRules,
  type SamplingRequest,
  type SamplingRule,
  SamplingRulesError,
  samplingRule,
  wildcardMatch,
} from './tracing/sampling/sampling-rules.js';
export { traceLogFields } from './tracing/trace-log-fields.js';
export { type XRayTracingSettings, xrayTracingSettings } from './tracing/tracing-settings.js';
export {
  type AnnotationValue,
  annotate,
  captureSubsegment,
  currentXRayTraceId,
  END_USER_ATTRIBUTE,
  putMetadata,
  type SubsegmentOptions,
  setUser,
  TracingUsageError,
  XRAY_ANNOTATIONS_ATTRIBUTE,
  XRAY_METADATA_ATTRIBUTE_PREFIX,
} from './tracing/xray-vocabulary.js';
