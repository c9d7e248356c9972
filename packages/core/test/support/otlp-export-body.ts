/**
 * An OTLP/JSON export request body of one span named `name`, in two parts, each a buffer that owns
 * its whole ArrayBuffer, as `OtlpJsonBatch.body()` makes them for the export thread.
 */
export function oneSpanExportBody(name: string): Buffer[] {
  const span = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name };
  const json = JSON.stringify({
    resourceSpans: [{ resource: {}, scopeSpans: [{ scope: {}, spans: [span] }] }],
  });
  const split = json.indexOf('"spans"');
  return [json.slice(0, split), json.slice(split)].map((text) => {
    const part = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    part.write(text);
    return part;
  });
}
