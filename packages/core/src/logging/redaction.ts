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
const EVERY_SENSITIVE_TEXT = new RegExp(SENSITIVE_TEXT_SOURCE, 'g');
/** A cheap first look: text without any of these cannot match SENSITIVE_TEXT. */
const SENSITIVE_TEXT_MARKER = /eyJ|Bearer|Basic|AKIA|ASIA/;

const MAX_DEPTH = 8;

// Log lines reuse a small set of keys; remembering the verdict keeps the regex off the hot path.
const keyVerdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 2_000;

function isSensitiveKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SENSITIVE_KEY.test(key);
    if (keyVerdicts.size < MAX_REMEMBERED_KEYS) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

export function redactText(text: string): string {
  return text.length >= 16 && SENSITIVE_TEXT_MARKER.test(text)
    ? text.replace(EVERY_SENSITIVE_TEXT, REDACTED)
    : text;
}

/**
 * `value` with sensitive keys and secret-shaped text replaced. Copy on write: the input is never
 * changed, and when nothing needs redacting the same object comes back, with no allocation.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || value instanceof Error)
    return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const redacted = redactValue(value[i], depth + 1);
      if (redacted !== value[i]) {
        copy ??= value.slice();
        copy[i] = redacted;
      }
    }
    return copy ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return redactValue((value as { toJSON(): unknown }).toJSON(), depth);
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const inner = (value as Record<string, unknown>)[key];
    const redacted =
      isSensitiveKey(key) && inner !== null && typeof inner !== 'number' && typeof inner !== 'boolean'
        ? REDACTED
        : redactValue(inner, depth + 1);
    if (redacted !== inner) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = redacted;
    }
  }
  return copy ?? value;
}
