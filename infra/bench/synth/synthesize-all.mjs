// One synth of every stack of every environment in a fresh process, as `infra:synth` would run it;
// prints {"importMs","synthMs","stacks"} as JSON. CHECKS=false leaves cdk-nag out (the baseline).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const started = performance.now();
const { createStratusApp } = await import('../../dist/index.js');
const imported = performance.now();
const outdir = mkdtempSync(join(tmpdir(), 'stratus-synth-bench-'));
try {
  const { app } = createStratusApp({
    allowPlaceholders: true,
    outdir,
    runChecks: process.env.CHECKS !== 'false',
  });
  const assembly = app.synth();
  const done = performance.now();
  process.stdout.write(
    JSON.stringify({
      importMs: imported - started,
      synthMs: done - imported,
      stacks: assembly.stacks.length,
    }),
  );
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
