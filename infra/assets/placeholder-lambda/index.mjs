// Stands in for a service's Lambda bundle when infrastructure is synthesized without it (tests,
// `npm run infra:synth`). `infra:deploy` refuses to use it: build the service's bundle first.
export const handler = async () => ({
  statusCode: 503,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    error: { code: 'not_deployed', message: 'this function was deployed without its bundle' },
  }),
});
