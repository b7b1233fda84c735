import { ExecutionResult } from 'graphql';

interface Item {
  result: ExecutionResult;
  bytes: number;
}

/**
 * The outbound queue of one subscription, consumed by its transport as an async iterator. The
 * transport pulls the next result only once the previous one was handed to the socket, so
 * what waits here plus what the socket still buffers is what a slow client owes; `overflow`
 * fires once that passes `maxBytes` (the transport then closes the connection).
 */
export class Channel implements AsyncIterableIterator<ExecutionResult> {
  private queue: Item[] = [];
  private queuedBytes = 0;
  private pull?: (value: IteratorResult<ExecutionResult>) => void;
  private roomWaiters: (() => void)[] = [];
  private ended = false;
  private finalResult?: ExecutionResult;
  private closedListeners: (() => void)[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly bufferedBytes: () => number,
    private readonly overflow: () => void,
  ) {}

  get isClosed(): boolean {
    return this.ended;
  }

  /** Bytes waiting in this queue. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Queues one result; returns false (and reports the overflow) when the client is too slow. */
  push(result: ExecutionResult, bytes: number): boolean {
    if (this.ended) return false;
    if (this.pull) {
      const pull = this.pull;
      this.pull = undefined;
      pull({ value: result, done: false });
      return true;
    }
    if (this.queuedBytes + bytes + this.bufferedBytes() > this.maxBytes && this.queue.length > 0) {
      this.overflow();
      return false;
    }
    this.queue.push({ result, bytes });
    this.queuedBytes += bytes;
    return true;
  }

  /** Resolves once the queue is at most half full: replays wait here so a fast stream of old
   * messages never trips the limit that is meant for slow clients. */
  waitForRoom(): Promise<void> {
    // Only the queue counts: the transport pulls the next result once the socket took the last.
    if (this.ended || this.queuedBytes <= this.maxBytes / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Ends the stream after what is queued, optionally with one last result (an error). */
  end(finalResult?: ExecutionResult): void {
    if (this.ended) return;
    this.ended = true;
    this.finalResult = finalResult;
    if (this.pull && this.queue.length === 0) this.flushEnd();
    this.roomWaiters.splice(0).forEach((resolve) => resolve());
    this.closedListeners.splice(0).forEach((listener) => listener());
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closedListeners.push(listener);
  }

  private flushEnd(): void {
    const pull = this.pull!;
    this.pull = undefined;
    if (this.finalResult) {
      const last = this.finalResult;
      this.finalResult = undefined;
      pull({ value: last, done: false });
    } else {
      pull({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const item = this.queue.shift();
    if (item) {
      this.queuedBytes -= item.bytes;
      if (this.queuedBytes <= this.maxBytes / 2) this.roomWaiters.splice(0).forEach((resolve) => resolve());
      return Promise.resolve({ value: item.result, done: false });
    }
    if (this.ended) {
      if (this.finalResult) {
        const last = this.finalResult;
        this.finalResult = undefined;
        return Promise.resolve({ value: last, done: false });
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => (this.pull = resolve));
  }

  /** The transport stops the stream (client completed it, or the socket closed). */
  return(): Promise<IteratorResult<ExecutionResult>> {
    this.queue = [];
    this.queuedBytes = 0;
    this.finalResult = undefined;
    this.end();
    if (this.pull) this.flushEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
