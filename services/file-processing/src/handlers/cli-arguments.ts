import { parseArgs } from 'node:util';

export const CLI_NAME = 'stratus-file-processing';
/** The job's name, and the name the original tool used for it. */
export const JOB_NAMES = ['s3-data-quality', 's3_data_quality_job'] as const;

export const USAGE = `Usage:
  ${CLI_NAME} run s3-data-quality (--event-json '<json>' | --events-file <file>) [--dry-run] [--job-id <id>]
  ${CLI_NAME} serve
  ${CLI_NAME} --help

Commands:
  run s3-data-quality   Profile and check the object(s) named by an S3 event (also accepted:
                        s3_data_quality_job). The event is an S3 event notification, an SNS
                        Notification wrapping one, or (--events-file) a JSON array or JSON lines of them.
  serve                 Start the listener (SNS deliveries on POST /, or the SQS poller with
                        INGEST_MODE=sqs) and the job dispatcher.

Options:
  --event-json <json>   The event, inline.
  --events-file <file>  A file of events ('-' for standard input).
  --dry-run             Print the report; write no report and no job record.
  --job-id <id>         Run this existing Pending job (how Kubernetes Jobs are started); the event
                        must name exactly one object.
  -h, --help            This text.

Settings come from the environment (see docs/file-processing.md): LOCAL_S3_ROOT, DQ_RULESETS_FILE,
DQ_RESULTS_PREFIX, DATABASE_URL, OPENSEARCH_URL, ...

Exit codes: 0 every job done, 1 a job failed, 2 bad usage or bad event.`;

export type CliCommand =
  | { command: 'help' }
  | { command: 'serve' }
  | {
      command: 'run';
      source: { kind: 'inline'; json: string } | { kind: 'file'; path: string };
      dryRun: boolean;
      jobId: string | undefined;
    };

/** A command line that makes no sense; the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCliArguments(argv: readonly string[]): CliCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  const [command, jobName, ...rest] = positionals;
  if (command === undefined) throw new UsageError('a command is required: run or serve');
  if (command === 'serve') {
    if (positionals.length > 1 || values['event-json'] || values['events-file'] || values['dry-run'])
      throw new UsageError('serve takes no arguments');
    return { command: 'serve' };
  }
  if (command !== 'run') throw new UsageError(`unknown command "${command}"; known: run, serve`);
  if (jobName === undefined) throw new UsageError(`run needs a job name: ${JOB_NAMES.join(' or ')}`);
  if (!(JOB_NAMES as readonly string[]).includes(jobName))
    throw new UsageError(`unknown job "${jobName}"; known: ${JOB_NAMES.join(', ')}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const inline = values['event-json'];
  const file = values['events-file'];
  if ((inline === undefined) === (file === undefined))
    throw new UsageError('give exactly one of --event-json or --events-file');
  if (values['dry-run'] && values['job-id'])
    throw new UsageError('--dry-run writes no job, so it takes no --job-id');
  return {
    command: 'run',
    source: inline !== undefined ? { kind: 'inline', json: inline } : { kind: 'file', path: file as string },
    dryRun: values['dry-run'] ?? false,
    jobId: values['job-id'],
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      'event-json': { type: 'string' },
      'events-file': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'job-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * The events in a CLI input: one JSON value, a JSON array of them, or JSON lines. SNS Notification
 * envelopes are unwrapped to their Message (with the MessageId as delivery id).
 */
export function eventsOf(text: string): { deliveryId: string | undefined; event: unknown }[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError('the event input is empty');
  let values: unknown[];
  try {
    const value: unknown = JSON.parse(trimmed);
    values = Array.isArray(value) ? value : [value];
  } catch (wholeError) {
    const lines = trimmed.split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length < 2) throw new UsageError(`the event is not JSON: ${(wholeError as Error).message}`);
    values = lines.map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (error) {
        throw new UsageError(`line ${index + 1} of the events is not JSON: ${(error as Error).message}`);
      }
    });
  }
  return values.map((value) => {
    const envelope = value as { Type?: unknown; Message?: unknown; MessageId?: unknown };
    if (envelope && envelope.Type === 'Notification' && typeof envelope.Message === 'string')
      return {
        deliveryId: typeof envelope.MessageId === 'string' ? envelope.MessageId : undefined,
        event: envelope.Message,
      };
    return { deliveryId: undefined, event: value };
  });
}
