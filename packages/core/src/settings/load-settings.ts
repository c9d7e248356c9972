import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import { isSecretField } from './schemas.js';

export const REDACTED = '[redacted]';

export interface SettingsIssue {
  variable: string;
  reason: string;
}

/** Every offending variable at once, so one start-up attempt shows everything to fix. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  readonly issues: SettingsIssue[];

  constructor(issues: SettingsIssue[]) {
    const lines = issues.map((issue) => `  - ${issue.variable}: ${issue.reason}`);
    super(`Invalid settings (${issues.length}):\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

export interface LoadSettingsOptions {
  /** The variables to read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * A `.env` file for local use. Its values fill in what the environment does not set; the
   * environment always wins. Default: `ENV_FILE`, else `.env` in the working directory if present.
   * `false` reads no file.
   */
  envFile?: string | false;
}

type AnyObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * Parses settings once, at start-up. Empty values count as unset, so `FOO=` in a `.env` file takes
 * the default. The returned object prints its secret fields as `[redacted]` when logged
 * (JSON.stringify, pino, util.inspect), while code reads the real values.
 */
export function loadSettings<S extends AnyObjectSchema>(
  schema: S,
  options: LoadSettingsOptions = {},
): z.output<S> {
  const env = options.env ?? process.env;
  const fromFile = readEnvFile(options.envFile === undefined ? env.ENV_FILE : options.envFile);
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key] !== undefined && env[key] !== '' ? env[key] : fromFile[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((issue) => ({
        variable: issue.path.length > 0 ? issue.path.join('.') : '(settings)',
        reason:
          input[String(issue.path[0])] === undefined && issue.code === 'invalid_type'
            ? 'required'
            : issue.message,
      })),
    );
  }
  return withRedactedPrinting(schema, result.data as z.output<S>);
}

/**
 * For a service's entry point: parse settings or stop the process with the list of problems
 * on stderr, exit code 1 and no stack trace.
 */
export function loadSettingsOrExit<S extends AnyObjectSchema>(
  schema: S,
  options: LoadSettingsOptions = {},
): z.output<S> {
  try {
    return loadSettings(schema, options);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** A copy of the settings with every secret field replaced by `[redacted]`. */
export function redactSettings<S extends AnyObjectSchema>(
  schema: S,
  settings: z.output<S>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...settings };
  for (const [key, field] of Object.entries(schema.shape)) {
    if (copy[key] !== undefined && isSecretField(field as z.ZodType)) copy[key] = REDACTED;
  }
  return copy;
}

function withRedactedPrinting<S extends AnyObjectSchema>(schema: S, settings: z.output<S>): z.output<S> {
  const printable = () => redactSettings(schema, settings);
  Object.defineProperties(settings, {
    toJSON: { value: printable, enumerable: false },
    [inspect.custom]: { value: () => printable(), enumerable: false },
  });
  return settings;
}

function readEnvFile(path: string | false | undefined): Record<string, string> {
  if (path === false) return {};
  const file = path ?? '.env';
  if (!existsSync(file)) {
    if (path !== undefined)
      throw new SettingsError([{ variable: 'ENV_FILE', reason: `no such file: ${file}` }]);
    return {};
  }
  return parseDotenv(readFileSync(file));
}
