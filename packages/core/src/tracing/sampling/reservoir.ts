/**
 * The per-second reservoir of an X-Ray sampling rule: admits at most `perSecond` requests in each
 * wall-clock second, then none until the next second starts. The clock is passed in, so tests and
 * property checks control time.
 */
export class Reservoir {
  private second = Number.NaN;
  private taken = 0;

  constructor(readonly perSecond: number) {}

  /** True when the request at `nowMs` fits in this second's reservoir (and counts it). */
  take(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.taken = 0;
    }
    if (this.taken >= this.perSecond) return false;
    this.taken++;
    return true;
  }
}
