import { randomUUID } from 'node:crypto';
import { AwsApiPeer, AwsPeerError } from './aws-peer.js';
import type { PeerCredentialStore } from './sigv4-verifier.js';

/**
 * An event as an EventBridge rule delivers it to a target (Lambda, SQS, ...): the envelope of the
 * "Amazon EventBridge events" reference, with `detail` parsed from the entry's Detail JSON.
 */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** One accepted PutEvents entry, with the bus and the X-Ray trace header it came with. */
export interface PutEvent {
  eventBusName: string;
  event: DeliveredEvent;
  traceHeader: string | undefined;
}

/** Makes entries fail inside a 200 response, as EventBridge does (FailedEntryCount > 0). */
export interface InjectedEntryFailure {
  errorCode: string;
  errorMessage?: string;
  /** How many entries fail; default 1. */
  times?: number;
}

export interface EventBridgePeerOptions {
  accountId?: string;
  region?: string;
  credentials?: PeerCredentialStore;
}

/** PutEvents quotas from the API reference. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

/**
 * A loopback EventBridge (AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`, SigV4 signing name
 * `events`). PutEvents validates entries as the service does: a malformed request is a 400
 * ValidationException; a bad entry (Detail that is not a JSON object, missing Source or DetailType)
 * fails alone, reported in `Entries[i].ErrorCode` with `FailedEntryCount`. Like the real service, an
 * event for a bus that does not exist is accepted and goes nowhere, so tests assert the bus of
 * `events`. Accepted events are recorded and handed to the subscribers of their bus, the way a rule
 * hands them to its targets.
 */
export class EventBridgePeer extends AwsApiPeer {
  readonly events: PutEvent[] = [];
  private readonly accountId: string;
  private readonly eventRegion: string;
  private readonly subscribers: { bus: string; deliver: (event: PutEvent) => void | Promise<void> }[] = [];
  private readonly entryFailures: InjectedEntryFailure[] = [];

  constructor(options: EventBridgePeerOptions = {}) {
    super({
      protocol: 'json-1.1',
      signingName: 'events',
      targetPrefix: 'AWSEvents',
      region: options.region ?? 'us-east-1',
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    this.accountId = options.accountId ?? '123456789012';
    this.eventRegion = options.region ?? 'us-east-1';
    this.handle('PutEvents', (input) => this.putEvents(input));
  }

  /** Called with every event accepted for the bus, after the PutEvents response is sent. */
  subscribe(bus: string, deliver: (event: PutEvent) => void | Promise<void>): void {
    this.subscribers.push({ bus, deliver });
  }

  /** The next `times` entries fail with this error code (e.g. InternalFailure, ThrottlingException). */
  failEntries(failure: InjectedEntryFailure): void {
    for (let i = 0; i < (failure.times ?? 1); i += 1) this.entryFailures.push(failure);
  }

  private putEvents(input: Record<string, unknown>): unknown {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new AwsPeerError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
      );
    }
    if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
      throw new AwsPeerError(
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const accepted: PutEvent[] = [];
    const results = entries.map((entry: unknown) => {
      const outcome = this.acceptEntry(entry);
      if ('errorCode' in outcome) return { ErrorCode: outcome.errorCode, ErrorMessage: outcome.errorMessage };
      accepted.push(outcome);
      return { EventId: outcome.event.id };
    });
    this.events.push(...accepted);
    // Targets get events after PutEvents answers, as with the real service.
    setImmediate(() => {
      for (const event of accepted)
        for (const subscriber of this.subscribers)
          if (subscriber.bus === event.eventBusName) void subscriber.deliver(event);
    });
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }

  private acceptEntry(entry: unknown): PutEvent | { errorCode: string; errorMessage: string } {
    const injected = this.entryFailures.shift();
    if (injected)
      return { errorCode: injected.errorCode, errorMessage: injected.errorMessage ?? injected.errorCode };
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const text = (name: string) =>
      typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined;
    const source = text('Source');
    const detailType = text('DetailType');
    const detailText = text('Detail');
    if (!source) return { errorCode: 'InvalidArgument', errorMessage: 'Parameter Source is not valid.' };
    if (!detailType)
      return { errorCode: 'InvalidArgument', errorMessage: 'Parameter DetailType is not valid.' };
    if (!detailText) return { errorCode: 'InvalidArgument', errorMessage: 'Parameter Detail is not valid.' };
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
      return { errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' };
    const busName = text('EventBusName') ?? 'default';
    const bus = busName.startsWith('arn:') ? (busName.split('/').at(-1) ?? busName) : busName;
    const time = typeof fields.Time === 'number' ? new Date(fields.Time * 1000) : new Date();
    return {
      eventBusName: bus,
      traceHeader: text('TraceHeader'),
      event: {
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source,
        account: this.accountId,
        time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.eventRegion,
        resources: Array.isArray(fields.Resources)
          ? fields.Resources.filter((r) => typeof r === 'string')
          : [],
        detail: detail as Record<string, unknown>,
      },
    };
  }
}
