// bench infra-synth: every stack of dev, test and prod synthesized (cdk-nag on) in a fresh Node
// process, wall-clock including the import of aws-cdk-lib; baseline: the same without cdk-nag.
// Alternating, after a warm-up. Target: the whole synth under 120 s on this machine.
// Run: npx tsc -b infra && npm run bench -w @stratus/infra
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mean, writeResult } from '../../../bench/lib/result.mjs';

const script = fileURLToPath(new URL('./synthesize-all.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

function once(checks) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [script], {
    env: { ...process.env, CHECKS: String(checks) },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`synth failed:\n${run.stderr}`);
  return { wallMs: performance.now() - started, ...JSON.parse(run.stdout) };
}

once(true); // warm-up: file cache, asset staging paths
const subject = [];
const baseline = [];
for (let round = 0; round < rounds; round++) {
  subject.push(once(true));
  baseline.push(once(false));
}
const seconds = (runs, key) => Number((mean(runs.map((run) => run[key])) / 1000).toFixed(2));
const subjectSeconds = seconds(subject, 'wallMs');
const baselineSeconds = seconds(baseline, 'wallMs');
writeResult({
  name: 'infra-synth',
  unit: 's (wall clock, fresh process; ratio = baseline / subject)',
  subject: subjectSeconds,
  baseline: baselineSeconds,
  ratio: Number((baselineSeconds / subjectSeconds).toFixed(2)),
  target: 'subject < 120',
  met: subjectSeconds < 120,
  stacks: subject[0].stacks,
  environments: 3,
  subjectImportSeconds: seconds(subject, 'importMs'),
  subjectSynthSeconds: seconds(subject, 'synthMs'),
  rounds,
  note: 'subject: all stacks of dev, test, prod with cdk-nag AwsSolutions; baseline: the same without cdk-nag',
});
