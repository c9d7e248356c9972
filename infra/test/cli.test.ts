import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCommandLine } from '../src/command-line.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** Runs the command line in this process, capturing what it writes. */
async function stratusInfra(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const status = await runCommandLine(args, {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
  });
  return { status, stdout, stderr };
}

/** Runs the executable from its TypeScript source (tsx), as `npm run infra:synth --` would from the build. */
function stratusInfraProcess(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('stratus-infra', () => {
  it('prints its usage with --help', () => {
    const { status, stdout } = stratusInfraProcess('--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: stratus-infra <synth\|diff\|deploy> --env <dev\|test\|prod>/);
  });

  it.each([
    [['synth'], /--env: must be one of dev, test, prod/],
    [['synth', '--env', 'staging'], /--env: must be one of dev, test, prod/],
    [['publish', '--env', 'dev'], /command: expected synth, diff or deploy, got "publish"/],
    [
      ['synth', '--env', 'dev', '--image-digest', 'file-processing=latest'],
      /imageDigest\.file-processing: must be sha256:/,
    ],
    [
      ['synth', '--env', 'dev', '--image-digest', 'billing=sha256:00'],
      /--image-digest: expected <service>=sha256:<hex>/,
    ],
    [['synth', '--env', 'dev', '--colour'], /Unknown option '--colour'/],
  ])('refuses %j with exit code 2 and the reason', async (args, reason) => {
    const { status, stderr } = await stratusInfra(...args);
    expect(status).toBe(2);
    expect(stderr).toMatch(reason);
    expect(stderr).toContain('Usage: stratus-infra');
  });
});
