/**
 * An OTLP/JSON export request body of one span named `name`, in a buffer that owns its whole
 * ArrayBuffer, as `OtlpJsonBatch.body()` makes them for the export thread.
 */
export function oneSpanExportBody(name: string): Buffer {
  const span = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name };
  const json = JSON.stringify({
    resourceSpans: [{ resource: {}, scopeSpans: [{ scope: {}, spans: [span] }] }],
  });
  const body = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  body.write(json);
  return body;
}
