/** A value with the time it stops being valid. */
export interface Expiring<T> {
  value: T;
  /** Milliseconds since the epoch; undefined never expires. */
  expiresAt: number | undefined;
}

export interface RefreshingValueOptions<T> {
  /** Obtains a fresh value; called by at most one caller at a time. */
  load: () => Promise<Expiring<T>>;
  /** Refresh this long before expiry, so no caller ever holds a value about to lapse. */
  refreshBeforeMs: number;
  now?: () => number;
}

/**
 * A cached value refreshed before it expires, with one refresh in flight at a time: every caller
 * that arrives while a refresh runs waits for that same refresh. Inside the refresh window callers
 * wait for the new value; if that refresh fails they still get the old one until it expires, so a
 * brief outage of the issuer costs nothing. An expired value is never handed out.
 */
export class RefreshingValue<T> {
  private current: Expiring<T> | undefined;
  private inFlight: Promise<Expiring<T>> | undefined;
  private readonly options: RefreshingValueOptions<T>;
  private readonly now: () => number;

  constructor(options: RefreshingValueOptions<T>) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<T> {
    const current = this.current;
    if (
      current &&
      (current.expiresAt === undefined || this.now() < current.expiresAt - this.options.refreshBeforeMs)
    ) {
      return current.value;
    }
    try {
      return (await this.refresh()).value;
    } catch (error) {
      if (current?.expiresAt !== undefined && this.now() < current.expiresAt) return current.value;
      throw error;
    }
  }

  /** The cached value with its expiry, without refreshing; undefined before the first load. */
  peek(): Expiring<T> | undefined {
    return this.current;
  }

  /** Forget the cached value, e.g. after the service rejected it. */
  invalidate(): void {
    this.current = undefined;
  }

  private refresh(): Promise<Expiring<T>> {
    if (!this.inFlight) {
      this.inFlight = this.options
        .load()
        .then((loaded) => {
          this.current = loaded;
          return loaded;
        })
        .finally(() => {
          this.inFlight = undefined;
        });
    }
    return this.inFlight;
  }
}
