import type { ReadinessCheckResult, ReadyBody } from './models.js';

export interface ReadinessCheck {
  /** Shown in `/ready`; name what is checked: `database`, `ground-truth`, `opensearch`. */
  name: string;
  /**
   * Passes when it resolves to anything but `false`; fails when it throws, rejects or times out.
   * A passing check may resolve to `{ detail: '…' }` to say more (e.g. "ground truth not loaded yet").
   */
  check: () => unknown | Promise<unknown>;
  /** Default READY_CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Runs every check at once, each bounded by its timeout. */
export async function runReadinessChecks(
  checks: readonly ReadinessCheck[],
  defaultTimeoutMs: number,
): Promise<ReadyBody> {
  const results = await Promise.all(
    checks.map((check) => runOne(check, check.timeoutMs ?? defaultTimeoutMs)),
  );
  const failing = results.filter((result) => result.status === 'fail').map((result) => result.name);
  return { status: failing.length === 0 ? 'ready' : 'not_ready', failing, checks: results };
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessCheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(check.check), timeout]);
    const durationMs = Math.round(performance.now() - started);
    if (outcome === false)
      return { name: check.name, status: 'fail', duration_ms: durationMs, reason: 'check returned false' };
    const detail = (outcome as { detail?: unknown } | null | undefined)?.detail;
    return {
      name: check.name,
      status: 'pass',
      duration_ms: durationMs,
      ...(typeof detail === 'string' ? { detail: detail.slice(0, 200) } : {}),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      name: check.name,
      status: 'fail',
      duration_ms: Math.round(performance.now() - started),
      reason: reason.slice(0, 200),
    };
  } finally {
    clearTimeout(timer);
  }
}
