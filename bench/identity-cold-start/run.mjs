// bench/identity-cold-start: the auth-exchange Lambda as an esbuild bundle vs the unbundled tsc build.
// Cold: a fresh Node process imports the handler and serves one sign-in (rounds alternate the two).
// Warm: p50/p99 of further sign-ins in one process each. Against loopback STS and EventBridge peers
// and a loopback key set, so the network is not what is measured.
// Bundles first (the bundle measured is always the current one); the unbundled build and the test
// peers come from `npm run build`, which `npm run bench -w @stratus/identity` runs for them.
// Knobs: BENCH_ROUNDS (default 10), BENCH_WARM (default 300).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventBridgePeer, StsPeer } from '@stratus/test-peers';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { bundleLambdas } from '../../services/identity/scripts/bundle-lambdas.mjs';
import { median, repoRoot, writeResult } from '../lib/result.mjs';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WARM = Number(process.env.BENCH_WARM ?? 300);
const PROJECT = 'stratus-bench';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/stratus-desktop-user';
const INIT_TARGET_MS = 150;
const RATIO_TARGET = 2;

const { bundles } = await bundleLambdas();
const variants = {
  bundled: bundles.find((bundle) => bundle.name === 'auth-exchange').file,
  unbundled: join(repoRoot, 'services/identity/dist/handlers/auth-exchange.js'),
};
if (!existsSync(variants.unbundled)) {
  console.error(`missing ${variants.unbundled}: run npm run build (or npm run bench -w @stratus/identity)`);
  process.exit(1);
}

// A Firebase-like key set on loopback, and a token it signed.
const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwks = JSON.stringify({
  keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }],
});
const keyServer = createServer((_request, response) =>
  response.writeHead(200, { 'content-type': 'application/json' }).end(jwks),
);
await new Promise((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
const now = Math.floor(Date.now() / 1000);
const idToken = await new SignJWT({
  iss: `https://securetoken.google.com/${PROJECT}`,
  aud: PROJECT,
  sub: 'bench-user',
  auth_time: now - 5,
  email: 'bench@example.com',
  firebase: { sign_in_provider: 'password' },
})
  .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' })
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);

const sts = await new StsPeer({
  roles: { [ROLE_ARN]: { issuer: `https://securetoken.google.com/${PROJECT}` } },
}).start();
const eventBridge = await new EventBridgePeer({ credentials: sts.credentials }).start();

const work = mkdtempSync(join(tmpdir(), 'identity-cold-start-'));
const eventFile = join(work, 'event.json');
writeFileSync(
  eventFile,
  JSON.stringify({
    version: '2.0',
    routeKey: 'POST /auth/exchange',
    rawPath: '/auth/exchange',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      requestId: 'bench',
      http: { method: 'POST', path: '/auth/exchange' },
      routeKey: 'POST /auth/exchange',
    },
    body: JSON.stringify({ idToken }),
    isBase64Encoded: false,
  }),
);
const env = {
  PATH: process.env.PATH ?? '',
  LOG_LEVEL: 'silent',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: sts.defaultCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: sts.defaultCredentials.secretAccessKey,
  FIREBASE_PROJECT_ID: PROJECT,
  FIREBASE_KEY_SET_URL: `http://127.0.0.1:${keyServer.address().port}/`,
  AUTH_ROLE_ARN: ROLE_ARN,
  STS_ENDPOINT: sts.url,
  EVENTBRIDGE_ENDPOINT: eventBridge.url,
};

async function invoke(variant, warm) {
  const { stdout } = await run(
    process.execPath,
    ['--no-warnings', join(import.meta.dirname, 'invoke.mjs'), variants[variant], eventFile, String(warm)],
    {
      env,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout);
}

/** A Node process that loads nothing: what any handler's init includes before its first import. */
async function bareNode() {
  const script =
    'const { user, system } = process.cpuUsage(); process.stdout.write(JSON.stringify({ initMs: performance.now(), initCpuMs: (user + system) / 1000 }))';
  const { stdout } = await run(process.execPath, ['-e', script], { env });
  return JSON.parse(stdout);
}

const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
const round = (value) => Math.round(value * 10) / 10;

try {
  // Warm-up: one of each, so both read their files from the page cache afterwards.
  await invoke('bundled', 0);
  await invoke('unbundled', 0);

  const cold = { bundled: [], unbundled: [] };
  const bare = [];
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['bundled', 'unbundled'] : ['unbundled', 'bundled'];
    for (const variant of order) cold[variant].push(await invoke(variant, 0));
    bare.push(await bareNode());
    process.stdout.write(
      `round ${i + 1}/${ROUNDS}: bundled init ${round(cold.bundled.at(-1).initMs)} ms, unbundled ${round(cold.unbundled.at(-1).initMs)} ms\n`,
    );
  }
  const warm = {
    bundled: (await invoke('bundled', WARM)).warmMs,
    unbundled: (await invoke('unbundled', WARM)).warmMs,
  };

  const initBundled = median(cold.bundled.map((r) => r.initMs));
  const initUnbundled = median(cold.unbundled.map((r) => r.initMs));
  const ratio = initUnbundled / initBundled;
  writeResult({
    name: 'identity-cold-start',
    unit: 'ms to import the handler in a fresh process (median); ratio = baseline / subject',
    subject: round(initBundled),
    baseline: round(initUnbundled),
    ratio: Math.round(ratio * 100) / 100,
    target: `subject < ${INIT_TARGET_MS} ms and ratio >= ${RATIO_TARGET}`,
    met: initBundled < INIT_TARGET_MS && ratio >= RATIO_TARGET,
    subject_name: 'esbuild bundle dist/lambda/auth-exchange.mjs',
    baseline_name: 'tsc build dist/handlers/auth-exchange.js with node_modules',
    bundle_bytes: statSync(variants.bundled).size,
    rounds: ROUNDS,
    cold_start_ms: {
      bundled: {
        init: round(initBundled),
        init_cpu: round(median(cold.bundled.map((r) => r.initCpuMs))),
        first_request: round(median(cold.bundled.map((r) => r.firstMs))),
      },
      unbundled: {
        init: round(initUnbundled),
        init_cpu: round(median(cold.unbundled.map((r) => r.initCpuMs))),
        first_request: round(median(cold.unbundled.map((r) => r.firstMs))),
      },
      bare_node: {
        init: round(median(bare.map((r) => r.initMs))),
        init_cpu: round(median(bare.map((r) => r.initCpuMs))),
      },
    },
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    warm_ms: {
      invocations: WARM,
      bundled: { p50: round(percentile(warm.bundled, 50)), p99: round(percentile(warm.bundled, 99)) },
      unbundled: { p50: round(percentile(warm.unbundled, 50)), p99: round(percentile(warm.unbundled, 99)) },
    },
    note: 'init is wall time from process start to the handler imported, Node start-up included (bare_node); init_cpu is the CPU time of the same, steadier on a shared machine. first_request includes fetching the key set and the SDK clients connecting.',
  });
} finally {
  await Promise.all([sts.stop(), eventBridge.stop(), new Promise((resolve) => keyServer.close(resolve))]);
  rmSync(work, { recursive: true, force: true });
}
