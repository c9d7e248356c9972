export interface BackoffPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** Delays never grow past this, so a long outage is still probed regularly. */
  maxMs: number;
}

/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog): a random delay between half and all of
 * base * 2^(attempt-1), capped. `random` is injectable so the schedule is testable.
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
