import { randomUUID } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { USER_SIGNED_IN, type UserSignedIn, type UserSignedInDelivery } from '../domain/user-signed-in.js';

/** Where user.signed_in events go: EventBridge in AWS, the in-process bus locally. */
export interface UserSignedInPublisher {
  /** `traceHeader` (X-Amzn-Trace-Id) continues the trace in whatever consumes the event. */
  publish(event: UserSignedIn, traceHeader: string | undefined): Promise<void>;
}

/** PutEvents reported the entry as failed (EventBridge answers 200 with FailedEntryCount). */
export class EventNotPublished extends Error {
  override readonly name = 'EventNotPublished';
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export class EventBridgePublisher implements UserSignedInPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly options: { eventBusName: string; source: string },
  ) {}

  async publish(event: UserSignedIn, traceHeader: string | undefined): Promise<void> {
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.options.eventBusName,
            Source: this.options.source,
            DetailType: USER_SIGNED_IN,
            Detail: JSON.stringify(event),
            Time: new Date(event.timestamp),
            ...(traceHeader ? { TraceHeader: traceHeader } : {}),
          },
        ],
      }),
    );
    const entry = output.Entries?.[0];
    if ((output.FailedEntryCount ?? 0) > 0 || !entry?.EventId)
      throw new EventNotPublished(
        entry?.ErrorCode ?? 'Unknown',
        `EventBridge did not accept the event: ${entry?.ErrorCode ?? 'no entry'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
  }
}

export type UserSignedInConsumer = (
  delivery: UserSignedInDelivery,
  traceHeader: string | undefined,
) => Promise<unknown>;

/**
 * The local stand-in for bus + rule + target: hands each event, in EventBridge's delivery envelope,
 * to the consumer after `publish` returns (delivery is asynchronous in AWS too). A consumer failure is
 * reported to `onError`, as a failed async invocation would be.
 */
export class InProcessBus implements UserSignedInPublisher {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly consumer: UserSignedInConsumer,
    private readonly options: { source: string; region: string; onError: (error: unknown) => void },
  ) {}

  async publish(event: UserSignedIn, traceHeader: string | undefined): Promise<void> {
    const delivery: UserSignedInDelivery = {
      version: '0',
      id: randomUUID(),
      'detail-type': USER_SIGNED_IN,
      source: this.options.source,
      account: '000000000000',
      time: event.timestamp,
      region: this.options.region,
      resources: [],
      detail: event,
    };
    const delivered = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.consumer(delivery, traceHeader))
      .catch(this.options.onError)
      .finally(() => this.pending.delete(delivered));
    this.pending.add(delivered);
  }

  /** Waits for events handed over but not yet consumed (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
