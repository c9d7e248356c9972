import { CfnResource, CustomResourceProviderBase, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { acknowledgeRules } from './rule-acknowledgements.js';

const xrayWrite = {
  actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  // X-Ray's write actions support no resource-level permissions.
  resources: ['*'],
};

/**
 * Turns on X-Ray active tracing for every Lambda function in the app, including the ones CDK adds
 * for itself (kubectl handler, custom-resource providers), so no hop of a trace is ever missing.
 * Functions we define set `tracing: ACTIVE` themselves; this catches the rest.
 */
export class ActiveTracingForEveryFunction implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof lambda.CfnFunction) {
      const tracing = node.tracingConfig as lambda.CfnFunction.TracingConfigProperty | undefined;
      if (tracing?.mode === 'Active') return;
      node.tracingConfig = { mode: 'Active' };
      const owner = node.node.scope;
      if (owner instanceof lambda.Function) {
        owner.addToRolePolicy(new iam.PolicyStatement(xrayWrite));
        if (owner.role) suppressXrayWildcard(owner.role);
      }
      return;
    }
    if (
      node instanceof CfnResource &&
      node.cfnResourceType === 'AWS::Lambda::Function' &&
      node.node.scope instanceof CustomResourceProviderBase
    ) {
      node.addPropertyOverride('TracingConfig.Mode', 'Active');
      node.node.scope.addToRolePolicy({
        Effect: 'Allow',
        Action: xrayWrite.actions,
        Resource: xrayWrite.resources,
      });
    }
  }
}

function suppressXrayWildcard(role: iam.IRole): void {
  acknowledgeRules(role, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      finding: 'Resource::*',
    },
  ]);
}
