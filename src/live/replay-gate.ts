/** Thrown by `ReplayGate.run` when its waiting line is full. */
export class ReplaysQueueFull extends Error {
  constructor(readonly limit: number) {
    super(`More than ${limit} live replays are waiting for the database on this process; resubscribe shortly`);
  }
}

/**
 * The way replays reach the database pool: at most `concurrency` steps (a page read, a result
 * built) at once, the rest waiting in a line of at most `maxWaiting`. A burst of resuming
 * subscribers then takes a few pool connections and leaves the others to requests; a step holds
 * its permit only while it reads, never while its client is slow to take the results.
 */
export class ReplayGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  /** Steps running and waiting now (tests, metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `step` once a permit is free; throws ReplaysQueueFull when the line is full. */
  async run<T>(step: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new ReplaysQueueFull(this.maxWaiting);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await step();
    } finally {
      const next = this.waiting.shift();
      // The permit passes straight to the next in line, so `running` never drops below what runs.
      if (next) next();
      else this.running -= 1;
    }
  }
}
