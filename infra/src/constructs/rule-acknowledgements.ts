import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface RuleAcknowledgement {
  /** A cdk-nag rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable here; shown in the validation report. */
  readonly reason: string;
  /** One finding of a rule that reports several, e.g. `Resource::*` for IAM5. */
  readonly finding?: string;
}

/**
 * Acknowledges cdk-nag findings on a construct and everything under it, each with its reason
 * (cdk-nag v3 reads CDK's native acknowledgements).
 */
export function acknowledgeRules(scope: IConstruct, acknowledgements: readonly RuleAcknowledgement[]): void {
  for (const { id, reason, finding } of acknowledgements) {
    Validations.of(scope).acknowledge({ id: finding ? `${id}[${finding}]` : id, reason });
  }
}

/** How cdk-nag writes the ARN of a resource defined in the same stack: `<LogicalId.Arn>`. */
export function arnAsNagShowsIt(construct: IConstruct): string {
  const resource = construct.node.defaultChild as CfnElement;
  return `<${Stack.of(construct).resolve(resource.logicalId)}.Arn>`;
}

/** cdk-nag's finding name for an AWS managed policy attached to a role. */
export const managedPolicyFinding = (name: string) => `Policy::arn:<AWS::Partition>:iam::aws:policy/${name}`;

/** A CDK-made function's role with only AWSLambdaBasicExecutionRole: logs of its own. */
export function acknowledgeLambdaBasicExecution(scope: IConstruct): void {
  acknowledgeRules(scope, [
    {
      id: 'AwsSolutions-IAM4',
      finding: managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'),
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    },
  ]);
}
