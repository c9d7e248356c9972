/**
 * Reading values out of LLM output. Models and SDKs often hand over JSON as a string, sometimes
 * twice encoded or inside a ```json fence; every step of a path unwraps such strings first.
 */

const FENCE = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?```$/;
const MAX_UNWRAP_DEPTH = 3;

/** A string holding JSON (an object or array, possibly fenced or encoded again) becomes that JSON; anything else is returned as is. */
export function unwrapJsonString(value: unknown): unknown {
  let current = value;
  for (let depth = 0; depth < MAX_UNWRAP_DEPTH && typeof current === 'string'; depth++) {
    let text = current.trim();
    const fenced = FENCE.exec(text);
    if (fenced) text = fenced[1]!.trim();
    const first = text[0];
    if (first !== '{' && first !== '[' && first !== '"') return current;
    try {
      current = JSON.parse(text);
    } catch {
      return current;
    }
  }
  return current;
}

/** The value at a dot path (`a.b.0.c`), unwrapping JSON strings on the way; undefined when absent. */
export function valueAtPath(root: unknown, path: string): unknown {
  let current = unwrapJsonString(root);
  if (path === '') return current;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (current !== null && typeof current === 'object') {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
    current = unwrapJsonString(current);
  }
  return current;
}
