// The loopback OTLP/HTTP receiver of the tracing benchmark, in its own process as a collector would be,
// so receiving spans does not slow the load generator. Keeps a count, not the spans. Prints its URL,
// then, on SIGTERM, the number of spans received.
import { startOtlpReceiver } from '../../test/peers/dist/index.js';

const receiver = await startOtlpReceiver();
let received = 0;
setInterval(() => {
  received += receiver.spans().length;
  receiver.clear();
}, 200).unref();
process.stdout.write(`${receiver.url}\n`);
process.once('SIGTERM', async () => {
  received += receiver.spans().length;
  await receiver.close();
  process.stdout.write(`${received}\n`);
  process.exit(0);
});
