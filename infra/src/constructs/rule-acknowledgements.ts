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

/**
 * A string with deploy-time parts as cdk-nag writes it in a finding: `{ Ref: X }` as `<X>`,
 * `{ Fn::GetAtt: [X, Y] }` as `<X.Y>`.
 */
export function textAsNagShowsIt(scope: IConstruct, value: string): string {
  const resolved = Stack.of(scope).resolve(value) as unknown;
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`cannot name ${JSON.stringify(resolved)} as cdk-nag does`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref) return `<${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
      throw new Error(`cannot name ${JSON.stringify(part)} as cdk-nag does`);
    })
    .join(join[0]);
}
