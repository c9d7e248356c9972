import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/**
 * DynamoDB for local mode: dynalite in memory on loopback (profiles last as long as the platform runs).
 * Its own calls speak DynamoDB's JSON protocol directly, so the launcher loads no AWS SDK.
 */
export class LocalDynamoDb {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LocalDynamoDb> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return new LocalDynamoDb(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  /** The table identity keeps profiles in (in AWS the infrastructure stack creates it). */
  async createTable(tableName: string, hashKey: string): Promise<void> {
    await this.call('CreateTable', {
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  }

  /** One item in DynamoDB's attribute-value JSON, or null. */
  async getItem(
    tableName: string,
    key: Record<string, { S: string }>,
  ): Promise<Record<string, unknown> | null> {
    const answer = (await this.call('GetItem', { TableName: tableName, Key: key, ConsistentRead: true })) as {
      Item?: Record<string, unknown>;
    };
    return answer.Item ?? null;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async call(operation: string, input: unknown): Promise<unknown> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        // dynalite wants a SigV4-shaped header and does not check the signature.
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20260101T000000Z',
      },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as { __type?: string; message?: string };
    if (!response.ok)
      throw new Error(`DynamoDB ${operation}: ${body.__type ?? response.status} ${body.message ?? ''}`);
    return body;
  }
}
