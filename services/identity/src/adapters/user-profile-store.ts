import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type UserProfileAction,
  userProfileActionOf,
  userProfileUpdateFor,
} from '../domain/user-profile-update.js';
import type { UserSignedIn } from '../domain/user-signed-in.js';

/** User profiles in the DynamoDB table `users` (partition key `userId`). */
export class UserProfileStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records a sign-in with one UpdateItem. `skipped` means the profile already has this sign-in or a
   * later one (a replayed or late event): nothing was changed, and nothing needs to be.
   */
  async recordSignIn(event: UserSignedIn): Promise<UserProfileAction> {
    try {
      const output = await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, ...userProfileUpdateFor(event) }),
      );
      return userProfileActionOf(output.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'skipped';
      throw error;
    }
  }

  /** For the local stack and tests only; in AWS the table belongs to the infrastructure stack. */
  async createTableIfMissing(): Promise<void> {
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.tableName,
          AttributeDefinitions: [{ AttributeName: 'userId', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}
