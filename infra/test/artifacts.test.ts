import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { execForm, parseDockerfile } from './dockerfile-syntax.js';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${repositoryRoot}${path}`, 'utf8');

interface PackageManifest {
  name: string;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const workspaceDirs: Record<string, string> = {
  '@stratus/core': 'packages/core',
  '@stratus/aws': 'packages/aws',
  '@stratus/jobs': 'packages/jobs',
  '@stratus/file-processing': 'services/file-processing',
  '@stratus/eval-metrics': 'services/eval-metrics',
};

/** The workspace and every @stratus workspace it depends on at run time, transitively. */
function runtimeWorkspaces(name: string, seen = new Set<string>()): Set<string> {
  seen.add(name);
  const manifest = JSON.parse(read(`${workspaceDirs[name]}/package.json`)) as PackageManifest;
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith('@stratus/') && !seen.has(dependency)) runtimeWorkspaces(dependency, seen);
  }
  return seen;
}

describe.each(['file-processing', 'eval-metrics'])('the %s image', (service) => {
  const dockerfile = parseDockerfile(read(`infra/docker/${service}.Dockerfile`));
  const runtime = dockerfile.stages.at(-1)!;
  const instruction = (keyword: string) => runtime.instructions.find((i) => i.keyword === keyword);

  it('is multi-stage, with a runtime stage that copies built output and installs nothing itself', () => {
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual([
      'manifests',
      'build',
      'production',
      'runtime',
    ]);
    expect(runtime.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(runtime.instructions.find((i) => i.keyword === 'COPY')?.args).toBe('--from=production /app /app');
  });

  it('installs production dependencies only, for exactly the workspaces the service needs', () => {
    const production = dockerfile.stages.find((stage) => stage.name === 'production')!;
    const install = production.instructions.find((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci'))!;
    expect(install.args).toContain('--omit=dev');
    const installed = new Set([...install.args.matchAll(/--workspace=(\S+)/g)].map((match) => match[1]));
    expect(installed).toEqual(runtimeWorkspaces(`@stratus/${service}`));
    for (const workspace of installed) {
      const dir = workspaceDirs[workspace!]!;
      expect(
        production.instructions.some((i) => i.args === `--from=build /repo/${dir}/dist ${dir}/dist`),
        dir,
      ).toBe(true);
    }
  });

  it('runs as the unprivileged node user with a health check on /health', () => {
    expect(instruction('USER')?.args).toBe('node');
    const userIndex = runtime.instructions.findIndex((i) => i.keyword === 'USER');
    const entrypointIndex = runtime.instructions.findIndex((i) => i.keyword === 'ENTRYPOINT');
    expect(userIndex).toBeLessThan(entrypointIndex);
    const healthcheck = instruction('HEALTHCHECK')!;
    expect(healthcheck.args).toMatch(/--interval=\d+s --timeout=\d+s/);
    const command = JSON.parse(
      healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3).trim(),
    ) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/health');
  });

  it("starts the service's own executable, compiled from a source that exists", () => {
    const [node, entry] = execForm(instruction('ENTRYPOINT'));
    expect(node).toBe('node');
    const manifest = JSON.parse(read(`services/${service}/package.json`)) as PackageManifest;
    const bin = Object.values(manifest.bin ?? {}).map(
      (path) => `services/${service}/${path.replace(/^\.\//, '')}`,
    );
    expect(bin).toContain(entry);
    const source = entry!.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
    expect(existsSync(`${repositoryRoot}${source}`), source).toBe(true);
  });
});

interface WorkflowStep {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  id?: string;
}
interface WorkflowJob {
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: WorkflowStep[];
  strategy?: { matrix: Record<string, unknown[]> };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

/** A GitHub Actions expression as written in the workflow: `${{ <text> }}`. */
const expression = (text: string) => `$\{{ ${text} }}`;

describe('the CI/CD workflow', () => {
  const workflow = parse(read('.github/workflows/ci-cd.yml')) as Workflow;
  const runs = (job: WorkflowJob) => job.steps.map((step) => step.run ?? '').join('\n');

  it('tests pull requests and pushes to main, with read-only default permissions', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(runs(workflow.jobs.test!)).toMatch(/npm ci\nnpm test/);
    expect(runs(workflow.jobs.test!)).toContain('npm run infra:synth');
  });

  it('builds and pushes both images on main only, through OIDC rather than stored keys', () => {
    const job = workflow.jobs['build-and-push']!;
    expect(job.if).toContain("github.ref == 'refs/heads/main'");
    expect(job.needs).toBe('test');
    expect(job.permissions?.['id-token']).toBe('write');
    expect(job.strategy?.matrix.service).toEqual(['file-processing', 'eval-metrics']);
    const credentials = job.steps.find((step) =>
      step.uses?.startsWith('aws-actions/configure-aws-credentials'),
    )!;
    expect(credentials.with?.['role-to-assume']).toBeDefined();
    expect(credentials.with).not.toHaveProperty('aws-access-key-id');
    const build = job.steps.find((step) => step.uses?.startsWith('docker/build-push-action'))!;
    expect(build.with?.file).toBe(`infra/docker/${expression('matrix.service')}.Dockerfile`);
    expect(build.with?.push).toBe(true);
    for (const service of ['file-processing', 'eval-metrics']) {
      expect(existsSync(`${repositoryRoot}infra/docker/${service}.Dockerfile`)).toBe(true);
    }
  });

  it('deploys the pushed digests and waits for both rollouts', () => {
    const job = workflow.jobs.deploy!;
    expect(job.needs).toBe('build-and-push');
    const script = runs(job);
    expect(script).toContain('npm run infra:deploy -- --env');
    for (const service of ['file-processing', 'eval-metrics']) {
      expect(script).toContain(
        `--image-digest ${service}=${expression(`needs.build-and-push.outputs.${service}`)}`,
      );
    }
    expect(script).toMatch(/kubectl rollout status deployment\/file-processing .*--timeout=/);
    expect(script).toMatch(/kubectl rollout status deployment\/eval-metrics .*--timeout=/);
    expect(script.indexOf('infra:deploy')).toBeLessThan(script.indexOf('rollout status'));
  });
});
