interface Watched {
  owed(): number;
  onStall(): void;
  last: number;
  progressAt: number;
}

/**
 * Finds stalled readers: a connection whose outbound bytes (`owed`: what its socket has not
 * taken, plus what waits for it) stay above zero without ever falling for `timeoutMs` is handed
 * to its `onStall` once (the transport closes it). One timer for every connection of the process.
 * A slow reader that takes something now and then makes progress; only one that stopped is cut.
 */
export class StallWatch {
  private readonly watched = new Set<Watched>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  /** Watches a connection until the returned function is called. */
  watch(owed: () => number, onStall: () => void): () => void {
    const entry: Watched = { owed, onStall, last: 0, progressAt: Date.now() };
    this.watched.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, Math.floor(this.timeoutMs / 4))));
      this.timer.unref();
    }
    return () => {
      this.watched.delete(entry);
      if (this.watched.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.watched) {
      const owed = entry.owed();
      if (owed === 0 || owed < entry.last) entry.progressAt = now;
      entry.last = owed;
      if (now - entry.progressAt >= this.timeoutMs) {
        this.watched.delete(entry);
        entry.onStall();
      }
    }
    if (this.watched.size === 0) this.stop();
  }
}
