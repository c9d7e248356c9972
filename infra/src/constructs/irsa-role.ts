import { CfnJson } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface IrsaRoleProps {
  readonly cluster: eks.ICluster;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly description: string;
}

/**
 * An IAM role that exactly one Kubernetes service account can assume through the cluster's OIDC
 * provider (IRSA). The trust is pinned to `system:serviceaccount:<ns>:<sa>` and audience
 * `sts.amazonaws.com`; the condition keys contain the issuer, known only at deploy time, hence CfnJson.
 */
export class IrsaRole extends Construct {
  readonly role: iam.Role;
  readonly subject: string;

  constructor(scope: Construct, id: string, props: IrsaRoleProps) {
    super(scope, id);
    const provider = props.cluster.openIdConnectProvider;
    this.subject = `system:serviceaccount:${props.namespace}:${props.serviceAccountName}`;
    const issuer = provider.openIdConnectProviderIssuer;
    const conditions = new CfnJson(this, 'TrustConditions', {
      value: { [`${issuer}:sub`]: this.subject, [`${issuer}:aud`]: 'sts.amazonaws.com' },
    });
    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      assumedBy: new iam.FederatedPrincipal(
        provider.openIdConnectProviderArn,
        { StringEquals: conditions },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });
  }
}
