import { describe, expect, it } from 'vitest';
import { eventsOf, parseCliArguments, UsageError } from '../src/handlers/cli-arguments.js';

describe('parseCliArguments', () => {
  it('reads run with either job name, serve and help', () => {
    expect(parseCliArguments(['run', 's3-data-quality', '--event-json', '{}'])).toEqual({
      command: 'run',
      source: { kind: 'inline', json: '{}' },
      dryRun: false,
      jobId: undefined,
    });
    expect(
      parseCliArguments(['run', 's3_data_quality_job', '--events-file', 'e.json', '--dry-run']),
    ).toMatchObject({
      source: { kind: 'file', path: 'e.json' },
      dryRun: true,
    });
    expect(parseCliArguments(['serve'])).toEqual({ command: 'serve' });
    expect(parseCliArguments(['--help'])).toEqual({ command: 'help' });
    expect(parseCliArguments(['run', '-h'])).toEqual({ command: 'help' });
  });

  it.each([
    [[], /a command is required/],
    [['launch'], /unknown command "launch"/],
    [['run'], /run needs a job name/],
    [['run', 'other-job', '--event-json', '{}'], /unknown job "other-job"/],
    [['run', 's3-data-quality'], /exactly one of --event-json or --events-file/],
    [['run', 's3-data-quality', '--event-json', '{}', '--events-file', 'f'], /exactly one of/],
    [['run', 's3-data-quality', '--event-json'], /argument missing|--event-json/],
    [['run', 's3-data-quality', '--event-json', '{}', '--bogus'], /Unknown option '--bogus'/],
    [
      ['run', 's3-data-quality', '--event-json', '{}', '--dry-run', '--job-id', 'j'],
      /--dry-run writes no job/,
    ],
    [['serve', 'now'], /serve takes no arguments/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArguments(argv)).toThrow(UsageError);
    expect(() => parseCliArguments(argv)).toThrow(message);
  });
});

describe('eventsOf', () => {
  it('reads one event, an array, JSON lines, and unwraps SNS notifications', () => {
    expect(eventsOf('{"Records":[]}')).toEqual([{ deliveryId: undefined, event: { Records: [] } }]);
    expect(eventsOf('[{"a":1},{"b":2}]')).toHaveLength(2);
    expect(eventsOf('{"a":1}\n{"b":2}\n')).toHaveLength(2);
    expect(
      eventsOf(JSON.stringify({ Type: 'Notification', MessageId: 'm-1', Message: '{"Records":[]}' })),
    ).toEqual([{ deliveryId: 'm-1', event: '{"Records":[]}' }]);
  });

  it('names what is wrong with input that is not JSON', () => {
    expect(() => eventsOf('')).toThrow(/empty/);
    expect(() => eventsOf('{not json')).toThrow(/not JSON/);
    expect(() => eventsOf('{"a":1}\n{oops')).toThrow(/line 2 of the events is not JSON/);
  });
});
