import { describe, expect, it } from 'vitest';
import { createLogger, prefersPrettyOutput, redactValue, withLogContext } from '../src/index.js';
import { CapturedLogs } from './support/service-under-test.js';

const settings = { SERVICE_NAME: 'orders', ENVIRONMENT: 'dev', LOG_LEVEL: 'debug' } as const;

function capture() {
  const logs = new CapturedLogs();
  return { logs, logger: createLogger(settings, { destination: logs }) };
}

describe('createLogger', () => {
  it('writes JSON lines with ISO time, level name, service, environment and message', () => {
    const { logs, logger } = capture();
    logger.info({ event: 'order_created', order_id: 'o-1' }, 'order created');
    const [line] = logs.lines;
    expect(line).toMatchObject({
      level: 'info',
      service: 'orders',
      environment: 'dev',
      event: 'order_created',
      order_id: 'o-1',
      message: 'order created',
    });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it('respects LOG_LEVEL', () => {
    const logs = new CapturedLogs();
    const logger = createLogger({ ...settings, LOG_LEVEL: 'warn' }, { destination: logs });
    logger.info('hidden');
    logger.warn('shown');
    expect(logs.lines.map((line) => line.message)).toEqual(['shown']);
  });

  it('adds the log context to every line inside it, across awaits, without passing a logger', async () => {
    const { logs, logger } = capture();
    await withLogContext({ job_id: 'job-7' }, async () => {
      logger.info('before');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await withLogContext({ request_id: 'r-1' }, async () => logger.info('nested'));
      logger.info({ step: 2 }, 'after');
    });
    logger.info('outside');
    expect(logs.lines.map((line) => [line.message, line.job_id, line.request_id])).toEqual([
      ['before', 'job-7', undefined],
      ['nested', 'job-7', 'r-1'],
      ['after', 'job-7', undefined],
      ['outside', undefined, undefined],
    ]);
  });

  it('does not let one line’s fields leak into the context of the next', () => {
    const { logs, logger } = capture();
    withLogContext({ request_id: 'r-2' }, () => {
      logger.info({ detail: 'first only' }, 'one');
      logger.info('two');
    });
    expect(logs.lines[1]).not.toHaveProperty('detail');
  });

  it('pretty-prints only locally in a terminal', () => {
    expect(prefersPrettyOutput('local', true)).toBe(true);
    expect(prefersPrettyOutput('local', false)).toBe(false);
    expect(prefersPrettyOutput('prod', true)).toBe(false);
  });
});

describe('redaction', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVz';

  it('redacts sensitive keys at any depth, in fields, bindings and errors', () => {
    const { logs, logger } = capture();
    logger.child({ api_key: 'child-binding-key' }).info(
      {
        headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: 'session=abc123', 'x-api-key': 'k-123456' },
        body: { user: { password: 'hunter2', refreshToken: 'rt-1' }, items: [{ clientSecret: 's-1' }] },
        input_tokens: 812,
      },
      'call',
    );
    logger.error({ err: new Error(`upstream said Bearer ${jwt}`) }, 'failed');
    for (const value of [
      'child-binding-key',
      'dXNlcjpwYXNz',
      'abc123',
      'k-123456',
      'hunter2',
      'rt-1',
      's-1',
      jwt,
    ]) {
      expect(logs.text).not.toContain(value);
    }
    expect(logs.lines[0]).toMatchObject({ input_tokens: 812, body: { user: { password: '[redacted]' } } });
  });

  it('redacts tokens by their shape in free text', () => {
    const { logs, logger } = capture();
    logger.info(`exchanging ${jwt} for credentials with AKIAABCDEFGHIJKLMNOP`);
    logger.info({ step: 2 }, 'retrying with %s', `Bearer ${jwt}`);
    expect(logs.text).not.toContain(jwt);
    expect(logs.text).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(logs.lines[0]?.message).toBe('exchanging [redacted] for credentials with [redacted]');
    expect(logs.lines[1]?.message).toBe('retrying with [redacted]');
  });

  it('leaves its input untouched', () => {
    const input = { token: 'abc', nested: { ok: 1 } };
    expect(redactValue(input)).toEqual({ token: '[redacted]', nested: { ok: 1 } });
    expect(input.token).toBe('abc');
  });
});
