import {
  defaultAccounts,
  type EnvironmentConfig,
  type EnvironmentName,
  environmentNames,
  environments,
  type ImageDigestReference,
} from './environments.js';

/** Services whose image digest CI passes at deploy time. */
export const imageServices = ['file-processing', 'eval-metrics', 'api'] as const;
export type ImageService = (typeof imageServices)[number];

/** What can be overridden at synth time with `-c key=value` (CI passes the pushed image digests). */
export interface EnvironmentOverrides {
  readonly account?: string;
  readonly region?: string;
  readonly imageDigests?: Partial<Record<ImageService, string>>;
}

/** Bad infrastructure input: names the setting and what was wrong with it. */
export class InfraConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'InfraConfigError';
  }
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;
const accountPattern = /^\d{12}$/;
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;

export function isEnvironmentName(value: unknown): value is EnvironmentName {
  return typeof value === 'string' && (environmentNames as readonly string[]).includes(value);
}

function withDigest(image: ImageDigestReference, setting: string, digest?: string): ImageDigestReference {
  if (digest === undefined) return image;
  if (!digestPattern.test(digest)) {
    throw new InfraConfigError(setting, `must be sha256:<64 lower-case hex digits>, got "${digest}"`);
  }
  return { ...image, digest };
}

/** The typed configuration of one environment with the overrides applied and checked. */
export function resolveEnvironment(name: unknown, overrides: EnvironmentOverrides = {}): EnvironmentConfig {
  if (!isEnvironmentName(name)) {
    throw new InfraConfigError('env', `must be one of ${environmentNames.join(', ')}, got "${String(name)}"`);
  }
  const account = overrides.account ?? defaultAccounts[name];
  if (!accountPattern.test(account))
    throw new InfraConfigError('account', 'must be a 12-digit AWS account id');
  const base = environments[name](account);
  const region = overrides.region ?? base.region;
  if (!regionPattern.test(region)) throw new InfraConfigError('region', `"${region}" is not an AWS region`);
  const digests = overrides.imageDigests ?? {};
  return {
    ...base,
    account,
    region,
    fileProcessing: {
      ...base.fileProcessing,
      image: withDigest(base.fileProcessing.image, 'imageDigest.file-processing', digests['file-processing']),
    },
    evalMetrics: {
      ...base.evalMetrics,
      image: withDigest(base.evalMetrics.image, 'imageDigest.eval-metrics', digests['eval-metrics']),
    },
    platform: {
      ...base.platform,
      appRunnerImage: withDigest(base.platform.appRunnerImage, 'imageDigest.api', digests.api),
    },
  };
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:...` */
export function imageUri(config: EnvironmentConfig, image: ImageDigestReference): string {
  return `${config.account}.dkr.ecr.${config.region}.amazonaws.com/${image.repositoryName}@${image.digest}`;
}
