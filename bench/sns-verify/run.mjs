// SNS message verification: @stratus/aws's SnsMessageVerifier vs sns-payload-validator, on the same
// signed messages, certificate cached for both, alternating rounds after a warm-up, one core.
// Runs on built dist/ code: `npm run bench -w @stratus/aws` (builds first) or `node bench/sns-verify/run.mjs`.
import { Agent } from 'node:https';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { SnsMessageVerifier } from '@stratus/aws';
import { SnsCertificatePeer } from '@stratus/test-peers';
import { writeResult } from '../lib/result.mjs';

const require = createRequire(import.meta.url);
const SnsPayloadValidator = require('sns-payload-validator');

const messageCount = Number(process.env.BENCH_MESSAGES ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);

const peer = await new SnsCertificatePeer().start();
const agent = new Agent({ ca: peer.tlsCertificate });
// Realistic envelopes: S3 notifications of both signature versions, half with a Subject.
const messages = Array.from({ length: messageCount }, (_, index) =>
  peer.envelope({
    SignatureVersion: index % 2 === 0 ? '2' : '1',
    Subject: index % 4 < 2 ? 'Amazon S3 Notification' : undefined,
    Message: JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'uploads' }, object: { key: `in/${index}.csv`, size: 1024 + index } },
        },
      ],
    }),
  }),
);

const ours = new SnsMessageVerifier({ trustedCertHost: /^127\.0\.0\.1$/, httpsAgent: agent });
// The baseline only trusts AWS hosts: the same envelopes with an AWS-shaped SigningCertURL (not a signed
// field), and its certificate cache filled with the same certificate, so neither side downloads.
const awsCertUrl = `https://sns.us-east-1.amazonaws.com${peer.certificatePath}`;
const baseline = new SnsPayloadValidator({ useCache: true });
baseline.certCache.set(awsCertUrl, peer.signingCertificate);
const baselineMessages = messages.map((message) => ({ ...message, SigningCertURL: awsCertUrl }));

async function runOurs() {
  for (const message of messages) await ours.verify(message);
}
async function runBaseline() {
  for (const message of baselineMessages) await baseline.validate(message);
}

// Both clocks: wall time swings with whatever else shares the machine; CPU time of this
// single-threaded process is what "per second on one core" means, and stays comparable under load.
async function measure(run) {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run();
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { perCpuSecond: messageCount / cpuSeconds, perWallSecond: messageCount / wallSeconds };
}

// Warm-up: the first verification of ours downloads the certificate; then JIT warm-up for both.
await runOurs();
await runBaseline();
await runOurs();
await runBaseline();

const oursRates = [];
const baselineRates = [];
for (let round = 0; round < rounds; round += 1) {
  // Alternate which goes first, so neither always runs on a warmer or busier machine.
  if (round % 2 === 0) {
    oursRates.push(await measure(runOurs));
    baselineRates.push(await measure(runBaseline));
  } else {
    baselineRates.push(await measure(runBaseline));
    oursRates.push(await measure(runOurs));
  }
}
agent.destroy();
await peer.stop();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cpuRates = (rates) => rates.map((rate) => Math.round(rate.perCpuSecond));
const wallRates = (rates) => rates.map((rate) => Math.round(rate.perWallSecond));
const subject = median(cpuRates(oursRates));
const baselineRate = median(cpuRates(baselineRates));
const result = writeResult({
  name: 'sns-verify',
  unit: 'verifications per CPU-second, one core (median of rounds)',
  subject,
  baseline: baselineRate,
  ratio: Number((subject / baselineRate).toFixed(2)),
  target: '>= 1.5 and subject >= 10000',
  subject_label: '@stratus/aws SnsMessageVerifier (parsed public key cached)',
  baseline_label: 'sns-payload-validator 2.x (PEM cached)',
  messages: messageCount,
  rounds,
  signature_versions: 'half 1 (SHA1withRSA), half 2 (SHA256withRSA); RSA-2048',
  subject_rounds: cpuRates(oursRates),
  baseline_rounds: cpuRates(baselineRates),
  subject_wall_per_second: median(wallRates(oursRates)),
  baseline_wall_per_second: median(wallRates(baselineRates)),
  load_average_1m: Number(loadavg()[0].toFixed(1)),
});
const met = result.ratio >= 1.5 && result.subject >= 10_000;
process.stdout.write(`targets ${met ? 'met' : 'NOT met'}\n`);
