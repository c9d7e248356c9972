import { z } from 'zod';
import { tracingSettings } from '../settings/schemas.js';

/**
 * Tracing settings beyond on/off and the OTLP endpoint: sampling and export. A service adds
 * `...xrayTracingSettings.shape` to its settings schema to make them configurable from the environment.
 */
export const xrayTracingSettings = tracingSettings.extend({
  /** `xray-local`: X-Ray rules evaluated in-process; `xray-remote`: rules and quotas from X-Ray (via the collector or daemon); `always-on`: every trace. */
  TRACING_SAMPLER: z.enum(['xray-local', 'xray-remote', 'always-on']).default('xray-local'),
  /** Path of a sampling rules file in AWS's SamplingRule format; see docs/tracing.md. */
  XRAY_SAMPLING_RULES_FILE: z.string().min(1).optional(),
  /** The same rules document as JSON text, for when a file is awkward; the file wins when both are set. */
  XRAY_SAMPLING_RULES: z.string().min(1).optional(),
  /** Where the remote sampler asks for rules: the ADOT collector's or X-Ray daemon's sampling proxy. */
  XRAY_SAMPLING_ENDPOINT: z.url().default('http://127.0.0.1:2000'),
  /** `otlp` to OTLP_ENDPOINT, `file` to TRACES_FILE as JSON lines (no collector needed), or both. */
  TRACING_EXPORTER: z.enum(['otlp', 'file', 'otlp-and-file']).default('otlp'),
  TRACES_FILE: z.string().min(1).default('.stratus/traces.jsonl'),
  /** OpenTelemetry's cloud.platform, e.g. aws_eks; also gives the X-Ray service type for sampling rules. */
  CLOUD_PLATFORM: z.enum(['aws_eks', 'aws_ecs', 'aws_ec2', 'aws_lambda']).optional(),
  /** ARN of what runs the service, matched against a rule's ResourceARN. */
  XRAY_RESOURCE_ARN: z.string().min(1).optional(),
});

export type XRayTracingSettings = z.output<typeof xrayTracingSettings>;

/** X-Ray's origin names for OpenTelemetry cloud platforms (a sampling rule's ServiceType). */
export const XRAY_SERVICE_TYPES: Record<NonNullable<XRayTracingSettings['CLOUD_PLATFORM']>, string> = {
  aws_eks: 'AWS::EKS::Container',
  aws_ecs: 'AWS::ECS::Container',
  aws_ec2: 'AWS::EC2::Instance',
  aws_lambda: 'AWS::Lambda::Function',
};
