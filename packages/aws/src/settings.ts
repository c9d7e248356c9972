import { envBoolean, envInteger, type SettingsIssue } from '@stratus/core';
import { z } from 'zod';

/**
 * Settings groups of @stratus/aws, each a zod object keyed by the environment variable it reads, in
 * the style of @stratus/core's groups. A service adds the groups it needs to its one settings object:
 *
 *   const settingsSchema = fullSettings.extend({ ...awsCredentialSettings.shape, ...snsVerificationSettings.shape });
 */

const roleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
    'must be an IAM role ARN such as arn:aws:iam::123456789012:role/app',
  );

/** Where AWS credentials come from. */
export const awsCredentialSources = ['sdk-default', 'google-wif'] as const;

const awsCredentialFields = z.object({
  /**
   * `sdk-default`: the AWS SDK's own chain (environment keys, EKS IRSA through AWS_WEB_IDENTITY_TOKEN_FILE
   * + AWS_ROLE_ARN, profiles, container and instance roles). `google-wif`: a Google ID token of this
   * workload's service account exchanged with STS AssumeRoleWithWebIdentity for AWS_ROLE_ARN.
   */
  AWS_CREDENTIALS_SOURCE: z.enum(awsCredentialSources).default('sdk-default'),
  /** The role to assume: with google-wif, and with IRSA (read there by the SDK itself). */
  AWS_ROLE_ARN: roleArn.optional(),
  /** IRSA's projected service account token; read by the SDK, listed here so a typo shows at start-up. */
  AWS_WEB_IDENTITY_TOKEN_FILE: z.string().min(1).optional(),
  /** The `aud` of the Google ID token; the role's trust policy checks it as `accounts.google.com:oaud`. */
  AWS_WIF_AUDIENCE: z.string().min(1).default('sts.amazonaws.com'),
  /** Shown in CloudTrail as the assumed-role session name. */
  AWS_ROLE_SESSION_NAME: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of letters, digits and +=,.@_-')
    .default('stratus'),
  AWS_WIF_SESSION_DURATION_SECONDS: envInteger(3600, 900, 43_200),
  /** true: impersonate SHARED_SA_EMAIL through IAM Credentials generateIdToken for the Google ID token. */
  IMPERSONATE_FOR_AWS_WIF: envBoolean(false),
  SHARED_SA_EMAIL: z.email().optional(),
  /** STS endpoint override (VPC endpoint, tests); the SDK's own variable name. */
  AWS_ENDPOINT_URL_STS: z.url().optional(),
  /** IAM Credentials API override (Private Service Connect, tests). */
  GOOGLE_IAM_CREDENTIALS_ENDPOINT: z.url().default('https://iamcredentials.googleapis.com'),
});

/** The settings problems of the credential group: variables that the chosen source needs together. */
export function awsCredentialSettingsIssues(settings: z.output<typeof awsCredentialFields>): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  if (settings.AWS_CREDENTIALS_SOURCE === 'google-wif' && !settings.AWS_ROLE_ARN) {
    issues.push({ variable: 'AWS_ROLE_ARN', reason: 'required when AWS_CREDENTIALS_SOURCE=google-wif' });
  }
  if (settings.IMPERSONATE_FOR_AWS_WIF && !settings.SHARED_SA_EMAIL) {
    issues.push({ variable: 'SHARED_SA_EMAIL', reason: 'required when IMPERSONATE_FOR_AWS_WIF=true' });
  }
  return issues;
}

/**
 * The cross-field check as a zod refinement. A service that composes the group through `.shape`
 * (which drops refinements) keeps the start-up check with `.superRefine(refineAwsCredentialSettings)`.
 */
export function refineAwsCredentialSettings(
  settings: z.output<typeof awsCredentialFields>,
  context: z.core.$RefinementCtx,
): void {
  for (const issue of awsCredentialSettingsIssues(settings)) {
    context.addIssue({ code: 'custom', path: [issue.variable], message: issue.reason });
  }
}

/** How the process gets AWS credentials: the SDK chain (incl. IRSA) or Google WIF. */
export const awsCredentialSettings = awsCredentialFields.superRefine(refineAwsCredentialSettings);

/** AWS's own hosts for SNS signing certificates: sns.<region>.amazonaws.com and .com.cn. */
export const awsSnsCertificateHostPattern = '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$';

const regexText = z.string().refine((text) => {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}, 'must be a regular expression');

/** How incoming SNS messages are verified. */
export const snsVerificationSettings = z.object({
  /** Hosts allowed in SigningCertURL, as a regular expression; AWS's own by default. */
  SNS_TRUSTED_CERT_HOST_PATTERN: regexText.default(awsSnsCertificateHostPattern),
  /** Comma-separated TopicArns accepted; empty accepts every topic. */
  SNS_TOPIC_ARN_ALLOWLIST: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((arn) => arn.trim())
        .filter((arn) => arn !== ''),
    ),
  SNS_MAX_MESSAGE_AGE_SECONDS: envInteger(3600, 1),
  SNS_CLOCK_SKEW_SECONDS: envInteger(300, 0),
  SNS_CERT_FETCH_TIMEOUT_MS: envInteger(5000, 1),
});

/** Where objects are read from: S3, or a local folder standing in for it. */
export const objectReaderSettings = z.object({
  /** Read `<root>/<bucket>/<key>` from this folder instead of S3 (local runs and tests). */
  LOCAL_S3_ROOT: z.string().min(1).optional(),
});

export type AwsCredentialSettings = z.output<typeof awsCredentialSettings>;
export type SnsVerificationSettings = z.output<typeof snsVerificationSettings>;
export type ObjectReaderSettings = z.output<typeof objectReaderSettings>;
