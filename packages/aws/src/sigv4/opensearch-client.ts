import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface OpenSearchClientOptions {
  /** The domain or collection endpoint, e.g. https://search-x.eu-west-1.es.amazonaws.com. */
  node: string;
  region: string;
  /** `es` for OpenSearch Service domains, `aoss` for OpenSearch Serverless collections. */
  service: 'es' | 'aoss';
  /** Where SigV4 credentials come from, e.g. createAwsCredentialProvider(settings). */
  credentials: AwsCredentialIdentityProvider;
  requestTimeoutMs?: number;
  maxRetries?: number;
}

/**
 * The official OpenSearch client, every request signed by its AwsSigv4Signer with our credentials
 * (WIF, IRSA or any SDK chain); it asks for fresh credentials when the current ones near expiry.
 */
export function createOpenSearchClient(options: OpenSearchClientOptions): Client {
  return new Client({
    ...AwsSigv4Signer({
      region: options.region,
      service: options.service,
      getCredentials: () => options.credentials(),
    }),
    node: options.node,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    maxRetries: options.maxRetries ?? 3,
  });
}
