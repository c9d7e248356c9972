import type { CallInvocationTransformer, CallProperties } from '@grpc/grpc-js';

/** The one RPC intercepted: every Firestore write (set, update, delete, batch, transaction) is a Commit. */
export const firestoreCommitMethod = '/google.firestore.v1.Firestore/Commit';

/** A Firestore `Value` as the client encodes it (one of stringValue, mapValue, ... is set). */
export type FirestoreWireValue = Record<string, unknown>;

/** The parts of a google.firestore.v1.CommitRequest the interception reads. */
export interface CommitRequestFacts {
  database?: string;
  writes?: {
    update?: { name?: string; fields?: Record<string, FirestoreWireValue> };
    updateMask?: { fieldPaths?: string[] };
  }[];
}

/** A Commit that succeeded: its request and response, as they crossed the transport. */
export interface SucceededCommit {
  request: CommitRequestFacts;
  response: unknown;
}

/**
 * A grpc-js call invocation transformer that reports every successful Commit, after the caller has
 * been answered. It is passed to the client as the channel option `grpc.callInvocationTransformer`:
 * google-gax forwards that option to grpc-js (it does not forward `interceptors` given in the
 * Firestore settings, which are silently dropped). Other RPCs pass through untouched.
 */
export function commitObserver(onCommit: (commit: SucceededCommit) => void): CallInvocationTransformer {
  return (properties: CallProperties<unknown, unknown>) => {
    const callback = properties.callback;
    if (properties.methodDefinition.path !== firestoreCommitMethod || !callback) return properties;
    const request = properties.argument as CommitRequestFacts;
    return {
      ...properties,
      callback: (error, response) => {
        callback(error, response);
        if (error) return;
        // Never in the caller's way: the observer runs on a later turn, and its failures stay its own.
        setImmediate(() => {
          try {
            onCommit({ request, response });
          } catch {
            // The observer logs its own failures; whatever escapes must not reach grpc-js or the caller.
          }
        });
      },
    };
  };
}
