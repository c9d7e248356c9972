// One Lambda execution environment, as far as Node goes: imports a handler module, serves the
// request once (the cold invocation), then `warm` more times, and prints the timings as JSON.
// Usage: node invoke.mjs <handler module> <event JSON file> <warm invocations>
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, eventFile, warmArg] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'bench',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:auth-exchange',
};

const { handler } = await import(pathToFileURL(modulePath).href);
// Milliseconds since the process started: Node's own start-up plus loading and initialising the module,
// what Lambda reports as Init Duration.
const initMs = performance.now();
// CPU time spent so far: steadier than wall time when other processes share the cores.
const { user, system } = process.cpuUsage();
const initCpuMs = (user + system) / 1000;

let started = performance.now();
const first = await handler(event, context);
const firstMs = performance.now() - started;
if (first.statusCode !== 200) throw new Error(`cold invocation answered ${first.statusCode}: ${first.body}`);

const warmMs = [];
for (let i = 0; i < Number(warmArg ?? 0); i++) {
  started = performance.now();
  const response = await handler(event, context);
  warmMs.push(performance.now() - started);
  if (response.statusCode !== 200) throw new Error(`warm invocation answered ${response.statusCode}`);
}
process.stdout.write(JSON.stringify({ initMs, initCpuMs, firstMs, warmMs }));
