/** What the watch reads of one connection. */
export interface Outbound {
  /** Bytes waiting for the reader: what its socket has not taken, plus what waits for the socket. */
  owed(): number;
  /** Bytes its socket has taken so far (`bytesTaken`): grows whenever the reader reads. */
  taken(): number;
}

interface Watched {
  outbound: Outbound;
  onStall(): void;
  lastOwed: number;
  lastTaken: number;
  progressAt: number;
}

/**
 * Bytes a socket (a `net.Socket`) has handed to the kernel so far, which only the reader's
 * reading makes room for: `bytesWritten` counts what the socket was given, `writableLength` what
 * it still holds. 0 for a stream that does not count its bytes.
 */
export function bytesTaken(socket: { bytesWritten?: number; writableLength: number } | null | undefined): number {
  return socket?.bytesWritten === undefined ? 0 : socket.bytesWritten - socket.writableLength;
}

/**
 * Finds stalled readers: a connection that owes bytes and whose socket takes none for `timeoutMs`
 * is handed to its `onStall` once (the transport closes it). One timer for every connection of
 * the process. A slow reader that takes something now and then makes progress; only one that
 * stopped is cut. Progress is what the socket took, not what is owed: a replay refills what its
 * reader takes as fast as it is taken, so a reader that keeps up owes the same at every sweep.
 */
export class StallWatch {
  private readonly watched = new Set<Watched>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  /** Watches a connection until the returned function is called. */
  watch(outbound: Outbound, onStall: () => void): () => void {
    const entry: Watched = { outbound, onStall, lastOwed: 0, lastTaken: outbound.taken(), progressAt: Date.now() };
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
      const owed = entry.outbound.owed();
      const taken = entry.outbound.taken();
      if (owed === 0 || owed < entry.lastOwed || taken > entry.lastTaken) entry.progressAt = now;
      entry.lastOwed = owed;
      entry.lastTaken = taken;
      if (now - entry.progressAt >= this.timeoutMs) {
        this.watched.delete(entry);
        entry.onStall();
      }
    }
    if (this.watched.size === 0) this.stop();
  }
}
