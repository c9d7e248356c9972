import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environmentNames } from './config/environments.js';
import {
  type EnvironmentOverrides,
  type ImageService,
  InfraConfigError,
  imageServices,
  isEnvironmentName,
  resolveEnvironment,
} from './config/resolve-environment.js';

export const usage = `Usage: stratus-infra <synth|diff|deploy> --env <${environmentNames.join('|')}> [options] [-- cdk options]

  synth    synthesize the environment's stacks offline into --out (default infra/cdk.out) and run
           cdk-nag's AwsSolutions checks; missing Lambda bundles are replaced by a placeholder
  diff     cdk diff of the environment's stacks against the account (needs AWS credentials)
  deploy   cdk deploy of the environment's stacks (needs AWS credentials and built Lambda bundles)

Options:
  --env <name>                          environment (required)
  --image-digest <service>=sha256:<hex> image to deploy; services: ${imageServices.join(', ')} (repeatable)
  --account <12 digits>                 override the environment's account
  --region <region>                     override the environment's region
  --out <dir>                           synth output directory
  -h, --help                            this text

Exit codes: 0 ok, 1 synth/validation/cdk failure, 2 bad usage.`;

const infraRoot = fileURLToPath(new URL('../', import.meta.url));

function parseImageDigests(values: readonly string[]): NonNullable<EnvironmentOverrides['imageDigests']> {
  const digests: Partial<Record<ImageService, string>> = {};
  for (const value of values) {
    const [service, digest] = value.split('=', 2) as [string, string | undefined];
    if (!(imageServices as readonly string[]).includes(service) || !digest) {
      throw new InfraConfigError(
        '--image-digest',
        `expected <service>=sha256:<hex> with a service of ${imageServices.join(', ')}`,
      );
    }
    digests[service as ImageService] = digest;
  }
  return digests;
}

async function synth(
  io: CommandLineIo,
  env: string,
  overrides: EnvironmentOverrides,
  outdir: string,
): Promise<number> {
  const started = performance.now();
  // aws-cdk-lib takes seconds to load: only when there is something to synthesize.
  const { createStratusApp } = await import('./app.js');
  const { app, environments } = createStratusApp({
    environments: [env as (typeof environmentNames)[number]],
    overrides,
    allowPlaceholders: true,
    outdir,
  });
  try {
    const assembly = app.synth();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    for (const stack of assembly.stacks) io.out(`${stack.stackName}\t${stack.templateFullPath}\n`);
    io.out(
      `synthesized ${assembly.stacks.length} stacks of ${environments.length} environment in ${seconds} s; cdk-nag AwsSolutions: no unacknowledged errors\n`,
    );
    return 0;
  } catch (error) {
    io.err(`${(error as Error).message}\n`);
    return 1;
  }
}

function runCdk(
  command: 'diff' | 'deploy',
  env: string,
  overrides: EnvironmentOverrides,
  passThrough: string[],
): number {
  const cdkBin = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  const context = [
    `env=${env}`,
    ...(overrides.account ? [`account=${overrides.account}`] : []),
    ...(overrides.region ? [`region=${overrides.region}`] : []),
    ...Object.entries(overrides.imageDigests ?? {}).map(
      ([service, digest]) => `imageDigest.${service}=${digest}`,
    ),
  ].flatMap((entry) => ['-c', entry]);
  const result = spawnSync(process.execPath, [cdkBin, command, '--all', ...context, ...passThrough], {
    cwd: infraRoot,
    stdio: 'inherit',
  });
  return result.status ?? 1;
}

/** Where the command line writes; the process's streams by default. */
export interface CommandLineIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CommandLineIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** `stratus-infra <synth|diff|deploy> ...`: the exit code (0 ok, 1 failure, 2 bad usage). */
export async function runCommandLine(argv: string[], io: CommandLineIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  const { values, positionals, passThrough } = parsed;
  if (values.help) {
    io.out(`${usage}\n`);
    return 0;
  }
  const [command] = positionals;
  try {
    if (command !== 'synth' && command !== 'diff' && command !== 'deploy') {
      throw new InfraConfigError('command', `expected synth, diff or deploy, got "${command ?? ''}"`);
    }
    if (!isEnvironmentName(values.env)) {
      throw new InfraConfigError('--env', `must be one of ${environmentNames.join(', ')}`);
    }
    const overrides: EnvironmentOverrides = {
      ...(values.account ? { account: values.account } : {}),
      ...(values.region ? { region: values.region } : {}),
      imageDigests: parseImageDigests(values['image-digest'] ?? []),
    };
    resolveEnvironment(values.env, overrides); // bad overrides stop here, before any work

    if (command === 'synth')
      return await synth(io, values.env, overrides, values.out ?? `${infraRoot}cdk.out`);
    return runCdk(command, values.env, overrides, passThrough);
  } catch (error) {
    if (error instanceof InfraConfigError) {
      io.err(`${error.message}\n\n${usage}\n`);
      return 2;
    }
    throw error;
  }
}

function parseCommandLine(argv: string[]) {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const passThrough = separator === -1 ? [] : argv.slice(separator + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      env: { type: 'string' },
      'image-digest': { type: 'string', multiple: true },
      account: { type: 'string' },
      region: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return { values, positionals, passThrough };
}
