import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CachedApiKeySource, DEFAULT_API_KEY_TTL_MS } from '@stratus/core';
import { z } from 'zod';

/** Where a service's API key lives in Secrets Manager unless API_KEY_SECRET_ID_PATTERN says otherwise. */
export const DEFAULT_API_KEY_SECRET_ID_PATTERN = '{project}/{environment}/{service}/api-key';

const PLACEHOLDER = /\{([^}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['project', 'environment', 'service']);

/** Secret-id settings; a service adds `...apiKeySecretSettings.shape` to its schema. */
export const apiKeySecretSettings = z.object({
  API_KEY_SECRET_ID_PATTERN: z
    .string()
    .min(1)
    .default(DEFAULT_API_KEY_SECRET_ID_PATTERN)
    .refine(
      (pattern) =>
        [...pattern.matchAll(PLACEHOLDER)].every((match) => KNOWN_PLACEHOLDERS.has(match[1] ?? '')),
      'may only use the placeholders {project}, {environment} and {service}',
    ),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(DEFAULT_API_KEY_TTL_MS),
});

export type ApiKeySecretSettings = z.output<typeof apiKeySecretSettings>;

/** `{project}/{environment}/{service}/api-key` filled in, e.g. `stratus/prod/chat/api-key`. */
export function apiKeySecretId(
  names: { project: string; environment: string; service: string },
  pattern = DEFAULT_API_KEY_SECRET_ID_PATTERN,
): string {
  return pattern.replace(PLACEHOLDER, (whole, name: string) => {
    if (!KNOWN_PLACEHOLDERS.has(name)) {
      throw new Error(`secret id pattern ${pattern}: unknown placeholder ${whole}`);
    }
    return names[name as keyof typeof names];
  });
}

export interface SecretsManagerApiKeySourceOptions {
  client: SecretsManagerClient;
  /** Name or ARN, e.g. from `apiKeySecretId`. */
  secretId: string;
  /** Default 5 minutes. */
  ttlMs?: number;
  /** For a JSON secret (`{"apiKey":"..."}`), the field that holds the key; default `apiKey`. */
  jsonField?: string;
  now?: () => number;
}

/**
 * An ApiKeySource reading the key from Secrets Manager (GetSecretValue, AWSCURRENT), cached for the
 * TTL and read again when the service client or the inbound check invalidates it, so a rotated
 * key is picked up without a restart. The secret is either the key itself or a JSON object holding
 * it. Errors name the secret, never its value.
 */
export function secretsManagerApiKeySource(options: SecretsManagerApiKeySourceOptions): CachedApiKeySource {
  const field = options.jsonField ?? 'apiKey';
  return new CachedApiKeySource(
    async () => {
      let secretString: string | undefined;
      try {
        const answer = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
        secretString = answer.SecretString;
      } catch (error) {
        const name = (error as Error).name;
        throw new Error(
          `reading API key secret ${options.secretId} failed: ${name}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (secretString === undefined || secretString.length === 0) {
        throw new Error(
          `API key secret ${options.secretId} has no SecretString (binary secrets are not supported)`,
        );
      }
      if (!secretString.trimStart().startsWith('{')) return secretString;
      let parsed: unknown;
      try {
        parsed = JSON.parse(secretString);
      } catch {
        throw new Error(`API key secret ${options.secretId} looks like JSON but does not parse`);
      }
      const key = (parsed as Record<string, unknown>)[field];
      if (typeof key !== 'string' || key.length === 0) {
        throw new Error(
          `API key secret ${options.secretId} is a JSON object without a string field ${field}`,
        );
      }
      return key;
    },
    { ttlMs: options.ttlMs ?? DEFAULT_API_KEY_TTL_MS, ...(options.now ? { now: options.now } : {}) },
  );
}
