/**
 * When to restart a crashed worker (`hub serve --workers N`). Each worker slot keeps its own
 * streak: the first crash restarts after `baseMs`, each further crash doubles the wait up to
 * `maxMs`, so a worker that dies at start (a port taken, a bad configuration) costs a restart
 * every `maxMs` at most instead of spinning a core; a worker that stayed up `stableMs` before
 * it died starts a new streak. One slot's crash loop does not delay another slot's restart.
 */
export interface RestartPolicy {
  baseMs: number;
  maxMs: number;
  stableMs: number;
}

export const RESTART_POLICY: RestartPolicy = { baseMs: 100, maxMs: 10_000, stableMs: 30_000 };

export class RestartBackoff {
  private streak = new Map<number, number>();

  constructor(private readonly policy: RestartPolicy = RESTART_POLICY) {}

  /** The wait before restarting the worker of `slot`, which exited `upMs` after it was started. */
  delayFor(slot: number, upMs: number): number {
    const streak = upMs >= this.policy.stableMs ? 1 : (this.streak.get(slot) ?? 0) + 1;
    this.streak.set(slot, streak);
    // The exponent is capped too: 2 ** 1100 is Infinity, and a month-long loop must stay a number.
    return Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(streak - 1, 30));
  }
}
