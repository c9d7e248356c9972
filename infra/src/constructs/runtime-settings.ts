import type { EnvironmentConfig } from '../config/environments.js';

/** The @stratus/core settings every service reads (PROJECT_NAME, ENVIRONMENT, SERVICE_NAME, ...). */
export function coreSettings(config: EnvironmentConfig, serviceName: string): Record<string, string> {
  return {
    PROJECT_NAME: config.project,
    ENVIRONMENT: config.envName,
    SERVICE_NAME: serviceName,
    LOG_LEVEL: config.envName === 'prod' ? 'info' : 'debug',
    AWS_REGION: config.region,
  };
}

/** OpenTelemetry settings for Lambda: X-Ray ids and propagation, service name as the resource. */
export function lambdaTelemetrySettings(
  config: EnvironmentConfig,
  serviceName: string,
): Record<string, string> {
  return {
    ENABLE_TRACING: 'true',
    OTEL_SERVICE_NAME: serviceName,
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${config.envName},service.namespace=${config.project}`,
    OTEL_PROPAGATORS: 'xray,tracecontext',
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  };
}
