import { REDACTED } from '../settings/load-settings.js';

/**
 * Keys whose values are never written to a log: authorization and cookie headers, anything named
 * like a token, secret, password, API key, credential or private key. Numbers and booleans under such
 * keys are kept (`input_tokens: 812` is a count, not a secret).
 */
const SENSITIVE_KEY = /authorization|cookie|token|secret|passw(or)?d|api[-_]?key|credential|private[-_]?key/i;

/** Secrets recognisable by their shape wherever they appear in text: JWTs, bearer tokens, AWS key ids. */
const SENSITIVE_TEXT_SOURCE =
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}|\b(AKIA|ASIA)[A-Z0-9]{16}\b/
    .source;
const SENSITIVE_TEXT = new RegExp(SENSITIVE_TEXT_SOURCE);
const EVERY_SENSITIVE_TEXT = new RegExp(SENSITIVE_TEXT_SOURCE, 'g');

const MAX_DEPTH = 8;

export function redactText(text: string): string {
  return SENSITIVE_TEXT.test(text) ? text.replace(EVERY_SENSITIVE_TEXT, REDACTED) : text;
}

/** A copy of `value` with sensitive keys and secret-shaped text replaced; the input is not changed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return redactValue((value as { toJSON(): unknown }).toJSON(), depth);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      SENSITIVE_KEY.test(key) && inner !== null && typeof inner !== 'number' && typeof inner !== 'boolean'
        ? REDACTED
        : redactValue(inner, depth + 1);
  }
  return copy;
}
