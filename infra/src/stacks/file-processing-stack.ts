import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { CfnCondition, type CfnElement, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.js';
import { imageUri } from '../config/resolve-environment.js';
import { IrsaRole } from '../constructs/irsa-role.js';
import {
  acknowledgeRules,
  arnAsNagShowsIt,
  managedPolicyFinding,
  textAsNagShowsIt,
} from '../constructs/rule-acknowledgements.js';
import { coreSettings } from '../constructs/runtime-settings.js';
import { accessLogsBucket, secureBucket } from '../constructs/secure-bucket.js';
import { serviceRepository } from '../constructs/service-repository.js';
import { fileJobTemplate, httpWorkload, inApplyOrder, jobDispatcherRbac } from '../kubernetes/workloads.js';

export interface FileProcessingStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  /** Where jobs patch their final metrics (the job-metrics stack's domain). */
  readonly metricsDomain: MetricsDomain;
}

export interface MetricsDomain {
  readonly arn: string;
  readonly endpoint: string;
}

const listenerPort = 8080;

/**
 * S3 ObjectCreated -> SNS -> (SQS | HTTPS) -> the file-processing listener on EKS, which runs one
 * data-quality Job per file. Also home of the EKS cluster the container services share.
 */
export class FileProcessingStack extends Stack {
  readonly cluster: eks.Cluster;
  readonly repository: ecr.Repository;
  readonly inputBucket: s3.Bucket;
  readonly topic: sns.Topic;
  readonly queue?: sqs.Queue;
  readonly serviceRole: iam.Role;

  constructor(scope: Construct, id: string, props: FileProcessingStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const settings = config.fileProcessing;

    this.cluster = this.createCluster(config, vpc);
    this.repository = serviceRepository(this, 'Repository', settings.image.repositoryName, config.retainData);

    // The bucket name is fixed by configuration so the topic policy can name it without a reference
    // cycle (bucket -> notification -> topic policy -> bucket).
    const bucketArn = this.formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: settings.inputBucketName,
    });
    const key = new kms.Key(this, 'EventsKey', {
      description: 'Encrypts the file-processing topic and queues',
      enableKeyRotation: true,
    });
    const fromInputBucket = {
      ArnLike: { 'aws:SourceArn': bucketArn },
      StringEquals: { 'aws:SourceAccount': this.account },
    };
    // S3 must encrypt with the topic's key to publish to it.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromInputBucket,
      }),
    );

    this.topic = new sns.Topic(this, 'ObjectCreatedTopic', {
      displayName: `${config.project} ${config.envName} objects created`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheInputBucketPublishes',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromInputBucket,
      }),
    );

    const logs = accessLogsBucket(this, config.retainData);
    this.inputBucket = secureBucket(this, 'InputBucket', {
      bucketName: settings.inputBucketName,
      retain: config.retainData,
      serverAccessLogsBucket: logs,
    });
    this.notifyTopicOnObjectCreated(settings.inputPrefix);

    if (settings.sqsDelivery) this.queue = this.subscribeQueue(key);
    if (settings.httpsEndpoint) this.subscribeHttps(settings.httpsEndpoint, key);

    const irsa = new IrsaRole(this, 'ServiceAccountRole', {
      cluster: this.cluster,
      namespace: settings.namespace,
      serviceAccountName: settings.serviceAccountName,
      description: 'file-processing pods: read client files, write reports, consume the queue',
    });
    this.serviceRole = irsa.role;
    acknowledgeRules(this.serviceRole, [
      {
        id: 'AwsSolutions-IAM5',
        finding: `Resource::${arnAsNagShowsIt(this.inputBucket)}/${settings.inputPrefix}*`,
        reason: 'Objects under one prefix of the bucket only.',
      },
      {
        id: 'AwsSolutions-IAM5',
        finding: `Resource::${arnAsNagShowsIt(this.inputBucket)}/${settings.resultsPrefix}*`,
        reason: 'Objects under one prefix of the bucket only.',
      },
    ]);
    this.grantServiceAccess(settings.inputPrefix, settings.resultsPrefix, key);
    this.grantMetricsWrite(props.metricsDomain, config.jobMetrics.metricsIndex);
    this.applyKubernetesObjects(config, props.metricsDomain);
  }

  private createCluster(config: EnvironmentConfig, vpc: ec2.IVpc): eks.Cluster {
    const secretsKey = new kms.Key(this, 'ClusterSecretsKey', {
      description: 'Envelope encryption of Kubernetes secrets',
      enableKeyRotation: true,
    });
    const cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: `${config.project}-${config.envName}`,
      version: eks.KubernetesVersion.V1_35,
      vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...config.eks.publicAccessCidrs),
      secretsEncryptionKey: secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: new KubectlV35Layer(this, 'KubectlLayer') },
    });
    cluster.addNodegroupCapacity('Workers', {
      instanceTypes: [new ec2.InstanceType(config.eks.instanceType)],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      minSize: config.eks.minSize,
      desiredSize: config.eks.desiredSize,
      maxSize: config.eks.maxSize,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      enableNodeAutoRepair: true,
    });
    acknowledgeClusterInternals(cluster);
    return cluster;
  }

  private notifyTopicOnObjectCreated(prefix: string): void {
    const cfnBucket = this.inputBucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      topicConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          topic: this.topic.topicArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: prefix }] } },
        },
      ],
    };
    // S3 checks it may publish when the configuration is written: the topic policy must exist first.
    const topicPolicy = this.topic.node.tryFindChild('Policy');
    if (topicPolicy) cfnBucket.node.addDependency(topicPolicy);
  }

  private subscribeQueue(key: kms.IKey): sqs.Queue {
    const deadLetters = new sqs.Queue(this, 'ObjectCreatedDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRules(deadLetters, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue.' },
    ]);
    const queue = new sqs.Queue(this, 'ObjectCreatedQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // Longer than a listener takes to create the job durably, so a slow pod does not duplicate work.
      visibilityTimeout: Duration.minutes(2),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
    // SNS encrypts what it delivers to the queue with the queue's key. (Scoping this to the topic ARN
    // would make the key depend on the topic that depends on the key.)
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: false }));
    return queue;
  }

  private subscribeHttps(endpoint: string, key: kms.IKey): void {
    const undelivered = new sqs.Queue(this, 'HttpsUndelivered', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRules(undelivered, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the HTTPS subscription.' },
    ]);
    this.topic.addSubscription(
      new subscriptions.UrlSubscription(endpoint, {
        protocol: sns.SubscriptionProtocol.HTTPS,
        rawMessageDelivery: false,
        deadLetterQueue: undelivered,
      }),
    );
  }

  /** Explicit actions only: the service reads client files, writes reports, nothing else in the bucket. */
  private grantServiceAccess(inputPrefix: string, resultsPrefix: string, key: kms.IKey): void {
    const role = this.serviceRole;
    const bucketArn = this.inputBucket.bucketArn;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadClientFiles',
        actions: ['s3:GetObject'],
        resources: [`${bucketArn}/${inputPrefix}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListClientFiles',
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${inputPrefix}*`, `${resultsPrefix}*`] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReports',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [`${bucketArn}/${resultsPrefix}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ConfirmSubscription',
        actions: ['sns:ConfirmSubscription'],
        resources: [this.topic.topicArn],
      }),
    );
    if (this.queue) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ConsumeObjectCreatedQueue',
          actions: [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
          ],
          resources: [this.queue.queueArn],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({ sid: 'DecryptQueue', actions: ['kms:Decrypt'], resources: [key.keyArn] }),
      );
    }
  }

  /** Final job metrics: documents of the metrics index only (identity policy; same account as the domain). */
  private grantMetricsWrite(domain: MetricsDomain, index: string): void {
    this.serviceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteJobMetrics',
        actions: ['es:ESHttpPut', 'es:ESHttpPost', 'es:ESHttpGet', 'es:ESHttpHead'],
        resources: [`${domain.arn}/${index}`, `${domain.arn}/${index}/*`],
      }),
    );
    acknowledgeRules(this.serviceRole, [
      {
        id: 'AwsSolutions-IAM5',
        finding: `Resource::${textAsNagShowsIt(this, domain.arn)}/${index}/*`,
        reason: 'Documents of the metrics index only (_doc and _update paths).',
      },
    ]);
  }

  private applyKubernetesObjects(config: EnvironmentConfig, metrics: MetricsDomain): void {
    const settings = config.fileProcessing;
    const image = imageUri(config, settings.image);
    const jobTemplate = fileJobTemplate({
      name: 'file-processing',
      namespace: settings.namespace,
      serviceAccountName: settings.serviceAccountName,
      image,
      configMapName: 'file-processing',
      scratchSize: '8Gi',
    });
    const workload = httpWorkload({
      name: 'file-processing',
      namespace: settings.namespace,
      serviceAccountName: settings.serviceAccountName,
      roleArn: this.serviceRole.roleArn,
      image,
      replicas: settings.replicas,
      port: listenerPort,
      args: ['serve'],
      // Names from services/file-processing/src/config/settings.ts.
      settings: {
        ...coreSettings(config, 'file-processing'),
        INGEST_MODE: this.queue ? 'sqs' : 'sns-http',
        ...(this.queue ? { SQS_QUEUE_URL: this.queue.queueUrl, SQS_VISIBILITY_TIMEOUT_SECONDS: '120' } : {}),
        SNS_TOPIC_ARN_ALLOWLIST: this.topic.topicArn,
        DISPATCH_MODE: 'kubernetes',
        K8S_NAMESPACE: settings.namespace,
        K8S_JOB_IMAGE: image,
        K8S_SERVICE_ACCOUNT: settings.serviceAccountName,
        K8S_ENV_CONFIGMAP: 'file-processing',
        K8S_BACKOFF_LIMIT: String(jobTemplate.spec.backoffLimit),
        K8S_TTL_SECONDS_AFTER_FINISHED: String(jobTemplate.spec.ttlSecondsAfterFinished),
        K8S_JOB_CPU: jobTemplate.spec.template.spec.containers[0]!.resources.limits.cpu,
        K8S_JOB_MEMORY: jobTemplate.spec.template.spec.containers[0]!.resources.limits.memory,
        DQ_RESULTS_BUCKET: settings.inputBucketName,
        DQ_RESULTS_PREFIX: settings.resultsPrefix,
        DQ_TEMP_DIR: '/tmp',
        OPENSEARCH_URL: `https://${metrics.endpoint}`,
        OPENSEARCH_METRICS_INDEX: config.jobMetrics.metricsIndex,
      },
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    const jobTemplateConfigMap = {
      apiVersion: 'v1' as const,
      kind: 'ConfigMap' as const,
      metadata: { name: 'file-processing-job-template', namespace: settings.namespace },
      data: { 'job.json': JSON.stringify(jobTemplate) },
    };
    const manifest = new eks.KubernetesManifest(this, 'Workload', {
      cluster: this.cluster,
      manifest: inApplyOrder([
        workload.namespace,
        workload.serviceAccount,
        workload.configMap,
        jobTemplateConfigMap,
        ...jobDispatcherRbac(settings.namespace, settings.serviceAccountName),
        workload.deployment,
        workload.service,
      ]),
    });
    manifest.node.addDependency(this.serviceRole);
  }
}

/**
 * What the EKS construct itself creates and we cannot shape: the roles EKS and the nodes require (AWS
 * managed policies by EKS's own documentation) and CDK's kubectl handler.
 */
function acknowledgeClusterInternals(cluster: eks.Cluster): void {
  const required = (name: string, reason: string) => ({
    id: 'AwsSolutions-IAM4',
    finding: managedPolicyFinding(name),
    reason,
  });
  const all = cluster.node.findAll();
  const handler = all.find((c) => c.node.path.endsWith('KubectlProvider/Handler/Resource'));
  const ecrPublic = all.find(
    (c): c is CfnCondition => c instanceof CfnCondition && c.node.id.includes('HasEcrPublic'),
  );
  const stack = Stack.of(cluster);
  acknowledgeRules(cluster, [
    required('AmazonEKSClusterPolicy', 'The cluster role EKS requires (EKS user guide, cluster IAM role).'),
    required('AmazonEKSWorkerNodePolicy', 'The node role EKS requires for managed node groups.'),
    required('AmazonEKS_CNI_Policy', 'The VPC CNI on the nodes needs it to assign pod addresses.'),
    required('AmazonEC2ContainerRegistryReadOnly', 'Nodes and the kubectl handler pull images from ECR.'),
    required(
      'service-role/AWSLambdaBasicExecutionRole',
      "CDK's kubectl handler and provider write their logs.",
    ),
    required(
      'service-role/AWSLambdaVPCAccessExecutionRole',
      "CDK's kubectl handler runs in the cluster's VPC.",
    ),
    ...(ecrPublic
      ? [
          {
            id: 'AwsSolutions-IAM4',
            finding: `Policy::${JSON.stringify({
              'Fn::If': [
                stack.resolve(ecrPublic.logicalId),
                {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly',
                    ],
                  ],
                },
                { Ref: 'AWS::NoValue' },
              ],
            })}`,
            reason: "CDK's kubectl handler may pull its image from ECR Public where that partition has it.",
          },
        ]
      : []),
    {
      id: 'AwsSolutions-L1',
      reason: "CDK's kubectl handler: its runtime is chosen by aws-cdk-lib with the layer.",
    },
    ...(handler
      ? [
          {
            id: 'AwsSolutions-IAM5',
            finding: `Resource::<${stack.resolve((handler as CfnElement).logicalId)}.Arn>:*`,
            reason: 'The provider framework invokes any version of the kubectl handler function.',
          },
        ]
      : []),
  ]);
}
