import { z } from 'zod';
import { parseEvent } from './event-parse-error.js';

/**
 * The EventBridge event envelope (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html),
 * with the `detail` schema of the event type given by the caller.
 */
export function eventBridgeEventSchema<D extends z.ZodType>(detail: D) {
  return z.object({
    version: z.string(),
    id: z.string().min(1),
    'detail-type': z.string().min(1),
    source: z.string().min(1),
    account: z.string(),
    time: z.iso.datetime({ offset: true }),
    region: z.string(),
    resources: z.array(z.string()),
    detail,
  });
}

/** An EventBridge event whose detail is not (yet) interpreted. */
export const anyEventBridgeEventSchema = eventBridgeEventSchema(z.record(z.string(), z.unknown()));

export type EventBridgeEvent<D = Record<string, unknown>> = Omit<
  z.output<typeof anyEventBridgeEventSchema>,
  'detail'
> & {
  detail: D;
};

/** Parses an EventBridge event with the given detail schema; throws EventParseError. */
export function parseEventBridgeEvent<D extends z.ZodType>(
  input: unknown,
  detail: D,
): EventBridgeEvent<z.output<D>> {
  return parseEvent(eventBridgeEventSchema(detail), input, 'EventBridge event') as EventBridgeEvent<
    z.output<D>
  >;
}
