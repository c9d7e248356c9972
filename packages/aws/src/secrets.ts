/** @stratus/aws/secrets: the service's API key from Secrets Manager. */
export {
  type ApiKeySecretSettings,
  apiKeySecretId,
  apiKeySecretSettings,
  DEFAULT_API_KEY_SECRET_ID_PATTERN,
  type SecretsManagerApiKeySourceOptions,
  secretsManagerApiKeySource,
} from './secrets/api-key-secret.js';
