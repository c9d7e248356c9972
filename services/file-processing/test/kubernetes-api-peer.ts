import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Kubernetes API server for batch/v1 Jobs: `POST /apis/batch/v1/namespaces/{ns}/jobs`
 * (201 with the stored object, 409 AlreadyExists for a taken name, 422 Invalid for a body that is not
 * a Job), `GET .../jobs/{name}`, and `Status` bodies as the API server sends them. Every request must
 * carry the bearer token, as a service account's would.
 */
export class KubernetesApiPeer {
  readonly token = `test-token-${randomUUID()}`;
  readonly jobs = new Map<string, Record<string, unknown>>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  private readonly server: Server = createServer((req, res) => {
    this.serve(req, res).catch((error: unknown) =>
      this.status(req, res, 500, 'InternalError', String(error)),
    );
  });
  private port: number | undefined;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.status(req, res, 401, 'Unauthorized', 'Unauthorized');
    const path = (req.url ?? '/').split('?')[0] as string;
    const match = /^\/apis\/batch\/v1\/namespaces\/([a-z0-9-]+)\/jobs(?:\/([a-z0-9-]+))?$/.exec(path);
    if (!match)
      return this.status(req, res, 404, 'NotFound', `the server could not find the requested resource`);
    const [, namespace, name] = match as unknown as [string, string, string | undefined];
    if (req.method === 'GET' && name) {
      const job = this.jobs.get(`${namespace}/${name}`);
      if (!job) return this.status(req, res, 404, 'NotFound', `jobs.batch "${name}" not found`);
      return this.send(req, res, 200, job);
    }
    if (req.method !== 'POST' || name)
      return this.status(req, res, 405, 'MethodNotAllowed', 'method not allowed');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      apiVersion?: string;
      kind?: string;
      metadata?: { name?: string; namespace?: string };
    };
    const jobName = body.metadata?.name;
    if (
      body.apiVersion !== 'batch/v1' ||
      body.kind !== 'Job' ||
      !jobName ||
      !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(jobName)
    )
      return this.status(req, res, 422, 'Invalid', 'Job.batch is invalid');
    const key = `${namespace}/${jobName}`;
    if (this.jobs.has(key))
      return this.status(req, res, 409, 'AlreadyExists', `jobs.batch "${jobName}" already exists`);
    const stored = {
      ...body,
      metadata: {
        ...body.metadata,
        namespace,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString(),
      },
      status: {},
    };
    this.jobs.set(key, stored);
    return this.send(req, res, 201, stored);
  }

  private status(
    req: IncomingMessage,
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
  ): void {
    this.send(req, res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    });
  }

  private send(req: IncomingMessage, res: ServerResponse, code: number, body: unknown): void {
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', status: code });
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
