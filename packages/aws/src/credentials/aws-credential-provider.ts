import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SettingsError } from '@stratus/core';
import { type AwsCredentialSettings, awsCredentialSettingsIssues } from '../settings.js';
import {
  cachedGoogleIdToken,
  type GoogleIdTokenSource,
  impersonatedGoogleIdTokenSource,
  nativeGoogleIdTokenSource,
} from './google-id-token.js';
import { googleWebIdentityCredentials } from './google-web-identity.js';

export interface CreateAwsCredentialProviderOptions {
  /** Region for STS calls; default us-east-1 (STS is global; regional endpoints need a region). */
  region?: string;
  /** Replaces the Google ID token source the settings select (tests, custom credentials). */
  googleIdTokenSource?: GoogleIdTokenSource;
}

/**
 * The AWS credential provider the settings select, for every AWS SDK v3 client of the process.
 * - `sdk-default`: the SDK's own chain; on EKS with IRSA the pod's AWS_WEB_IDENTITY_TOKEN_FILE and
 *   AWS_ROLE_ARN are exchanged with STS by the SDK itself, re-reading the file as kubelet rotates it.
 * - `google-wif`: a Google ID token (the workload's own, or SHARED_SA_EMAIL's when
 *   IMPERSONATE_FOR_AWS_WIF=true) exchanged with STS AssumeRoleWithWebIdentity for AWS_ROLE_ARN.
 */
export function createAwsCredentialProvider(
  settings: AwsCredentialSettings,
  options: CreateAwsCredentialProviderOptions = {},
): AwsCredentialIdentityProvider {
  const stsClientConfig = {
    region: options.region ?? 'us-east-1',
    ...(settings.AWS_ENDPOINT_URL_STS ? { endpoint: settings.AWS_ENDPOINT_URL_STS } : {}),
  };
  if (settings.AWS_CREDENTIALS_SOURCE === 'sdk-default') {
    return fromNodeProviderChain({ clientConfig: stsClientConfig });
  }
  // Checked again here: a service that composed the group through `.shape` lost its refinement.
  const issues = awsCredentialSettingsIssues(settings);
  if (issues.length > 0 || !settings.AWS_ROLE_ARN) throw new SettingsError(issues);
  let source = options.googleIdTokenSource;
  if (!source && settings.IMPERSONATE_FOR_AWS_WIF && settings.SHARED_SA_EMAIL) {
    source = impersonatedGoogleIdTokenSource({
      serviceAccountEmail: settings.SHARED_SA_EMAIL,
      iamCredentialsEndpoint: settings.GOOGLE_IAM_CREDENTIALS_ENDPOINT,
    });
  }
  return googleWebIdentityCredentials({
    roleArn: settings.AWS_ROLE_ARN,
    idToken: cachedGoogleIdToken({
      source: source ?? nativeGoogleIdTokenSource(),
      audience: settings.AWS_WIF_AUDIENCE,
    }),
    roleSessionName: settings.AWS_ROLE_SESSION_NAME,
    durationSeconds: settings.AWS_WIF_SESSION_DURATION_SECONDS,
    stsClientConfig,
  });
}
