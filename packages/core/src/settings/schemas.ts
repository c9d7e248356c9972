import { z } from 'zod';

/**
 * Settings groups, each a zod object keyed by the environment variable it reads.
 * A service composes the groups it needs and adds its own fields in one place:
 *
 *   const settingsSchema = fullSettings.extend({ ...httpSettings.shape, PORT: port(8080) });
 */

const secretFields = z.registry<{ secret: true }>();

/** Marks a settings field as secret: it prints as `[redacted]` wherever settings are logged. */
export function secret<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: true });
  return schema;
}

/** True when the field (or the schema it wraps through optional/default/nullable) was marked secret. */
export function isSecretField(schema: z.ZodType): boolean {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (secretFields.has(current)) return true;
    const def = current._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    current = def.innerType ?? def.in;
  }
  return false;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const environments = ['local', 'dev', 'test', 'staging', 'prod'] as const;

/** A boolean read from text: true/false, 1/0, yes/no, on/off. */
export const envBoolean = (fallback: boolean) => z.stringbool().default(fallback);

/** A whole number read from text, within bounds. */
export const envInteger = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const port = (fallback: number) => envInteger(fallback, 0, 65_535);

const kebabName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be kebab-case: lower-case letters, digits and dashes');

export const baseServiceSettings = z.object({
  PROJECT_NAME: kebabName.default('stratus'),
  ENVIRONMENT: z.enum(environments).default('local'),
  SERVICE_NAME: kebabName,
  LOG_LEVEL: z.enum(logLevels).default('info'),
});

const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');

export const awsSettings = z.object({
  AWS_REGION: awsRegion.optional(),
  AWS_DEFAULT_REGION: awsRegion.optional(),
});

export const tracingSettings = z.object({
  ENABLE_TRACING: envBoolean(false),
  OTLP_ENDPOINT: z.url().default('http://127.0.0.1:4318'),
});

export const fullSettings = baseServiceSettings.extend({
  ...awsSettings.shape,
  ...tracingSettings.shape,
  API_GATEWAY_URL: z.url().optional(),
});

/** What the HTTP kit needs; services that serve HTTP add this group. */
export const httpSettings = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(8080),
  BODY_LIMIT_BYTES: envInteger(1_048_576, 1),
  TRUST_PROXY: envBoolean(false),
  SHUTDOWN_TIMEOUT_MS: envInteger(10_000, 1),
  READY_CHECK_TIMEOUT_MS: envInteger(2_000, 1),
  HEALTH_MAX_EVENT_LOOP_DELAY_MS: envInteger(1_000, 0),
  HEALTH_MAX_HEAP_USED_BYTES: envInteger(0, 0),
  HEALTH_MAX_RSS_BYTES: envInteger(0, 0),
  HEALTH_RETRY_AFTER_SECONDS: envInteger(10, 1),
});

export type BaseServiceSettings = z.output<typeof baseServiceSettings>;
export type AwsSettings = z.output<typeof awsSettings>;
export type TracingSettings = z.output<typeof tracingSettings>;
export type FullSettings = z.output<typeof fullSettings>;
export type HttpSettings = z.output<typeof httpSettings>;

/** The region the AWS SDK would use: AWS_REGION, then AWS_DEFAULT_REGION. */
export function awsRegionOf(settings: AwsSettings): string | undefined {
  return settings.AWS_REGION ?? settings.AWS_DEFAULT_REGION;
}
