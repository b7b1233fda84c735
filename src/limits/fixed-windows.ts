/** Keys remembered before windows that have ended are dropped. */
const MAX_TRACKED_KEYS = 10_000;

/**
 * Per-key fixed windows: a key's window starts with its first charge and lasts `windowMs`; at most
 * `max` charges are accepted in it. In memory, for one process (see shared-windows.ts for the
 * bound across processes). Bounded: beyond MAX_TRACKED_KEYS keys, ended windows are dropped, then
 * the oldest half, so a flood of keys cannot grow it.
 */
export class FixedWindows {
  /** `count` is every charge of the window; `alone` of them were decided by this process alone (see `mirror`). */
  private readonly windows = new Map<string, { start: number; count: number; alone: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Charges `amount` to `key`; false (nothing charged) when it does not fit in the window. `alone`:
   * the charge stands in for a shared window that could not be reached, which has not counted it.
   */
  charge(key: string, now = Date.now(), amount = 1, alone = false): boolean {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (!window && this.windows.size >= MAX_TRACKED_KEYS) this.dropExpired(now);
      window = { start: now, count: 0, alone: 0 };
      this.windows.set(key, window);
    }
    if (window.count + amount > this.max) return false;
    window.count += amount;
    if (alone) window.alone += amount;
    return true;
  }

  /** True when `amount` cannot fit in the key's current window (nothing is charged). */
  full(key: string, now = Date.now(), amount = 1): boolean {
    const window = this.windows.get(key);
    return !!window && now - window.start < this.windowMs && window.count + amount > this.max;
  }

  /** The charges of the key's current window that this process decided alone (uncounted by the shared window). */
  unshared(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    return window && now - window.start < this.windowMs ? window.alone : 0;
  }

  /**
   * Records the key's window as another source counted it (a shared window's start and count), of
   * which `counted` were charges this process had decided alone (sent along with the charge). The
   * charges decided alone that the source has not counted stay in the count, and an answer
   * overtaken by a later one (concurrent charges) does not lower it: counts only grow in a window.
   */
  mirror(key: string, start: number, count: number, now = Date.now(), counted = 0): void {
    const window = this.windows.get(key);
    if (!window && this.windows.size >= MAX_TRACKED_KEYS) this.dropExpired(now);
    const alone = window ? Math.max(0, this.unshared(key, now) - counted) : 0;
    const seen = window && window.start === start ? Math.max(count, window.count - window.alone) : count;
    this.windows.set(key, { start, count: seen + alone, alone });
  }

  /** Seconds until the key's window ends (for `retry-after`); at least 1. */
  retryAfterSeconds(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    return window ? Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)) : 1;
  }

  private dropExpired(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key);
    }
    // Still full (every tracked key active in its window): forget the oldest half rather than grow.
    if (this.windows.size >= MAX_TRACKED_KEYS) {
      let drop = Math.floor(this.windows.size / 2);
      for (const key of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(key);
      }
    }
  }
}
