import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error the bundling script is plain JavaScript, run by `npm run bundle`.
import { BUNDLE_BUDGET_BYTES, bundleLambdas, FUNCTIONS } from '../scripts/bundle-lambdas.mjs';
import { serveKeySet } from './fixtures/firebase-tokens.js';
import { type IdentityStack, ROLE_ARN, startIdentityStack } from './fixtures/identity-stack.js';
import { httpApiEvent, LAMBDA_CONTEXT } from './fixtures/lambda-events.js';

const run = promisify(execFile);

let outDir: string;
let bundles: { name: string; file: string; bytes: number }[];
let stack: IdentityStack;
let keySet: Awaited<ReturnType<typeof serveKeySet>>;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'identity-bundles-'));
  ({ bundles } = await bundleLambdas(outDir));
  stack = await startIdentityStack();
  keySet = await serveKeySet(stack.keys.jwks);
});
afterAll(async () => {
  await Promise.all([stack.stop(), keySet.close(), rm(outDir, { recursive: true, force: true })]);
});

/** Imports a bundle in a fresh Node process, as Lambda's runtime does, and invokes it once. */
async function invokeBundle(file: string, event: unknown, env: Record<string, string>) {
  const script = `const { handler } = await import(${JSON.stringify(file)});
process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)}, ${JSON.stringify(LAMBDA_CONTEXT)})));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', AWS_REGION: 'us-east-1', ...env },
  });
  return JSON.parse(stdout) as { statusCode: number; body: string };
}

describe('Lambda bundles', () => {
  it('are one minified ES module per function, each under 1 MB, with a source map', async () => {
    expect(bundles.map((bundle) => bundle.name)).toEqual(FUNCTIONS);
    for (const bundle of bundles) {
      expect(bundle.bytes).toBeLessThan(BUNDLE_BUDGET_BYTES);
      expect((await stat(`${bundle.file}.map`)).size).toBeGreaterThan(0);
    }
  });

  it('serve a sign-in from a fresh process against the loopback peers', async () => {
    const token = await stack.keys.sign();
    const response = await invokeBundle(
      bundles.find((bundle) => bundle.name === 'auth-exchange')!.file,
      httpApiEvent(JSON.stringify({ idToken: token })),
      {
        FIREBASE_PROJECT_ID: stack.settings.FIREBASE_PROJECT_ID,
        FIREBASE_KEY_SET_URL: keySet.url,
        AUTH_ROLE_ARN: ROLE_ARN,
        STS_ENDPOINT: stack.sts.url,
        EVENTBRIDGE_ENDPOINT: stack.eventBridge.url,
        AWS_ACCESS_KEY_ID: stack.awsCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: stack.awsCredentials.secretAccessKey,
      },
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).userId).toBe('uid-123');
    expect(stack.eventBridge.events.at(-1)?.event.detail.userId).toBe('uid-123');
  });

  it('stop at init, naming the variable, when a setting is missing', async () => {
    const failure = await invokeBundle(bundles[0]!.file, {}, {}).catch((error: Error) => error);
    expect(String(failure)).toMatch(/FIREBASE_PROJECT_ID: required/);
  });
});
