import { FormattedExecutionResult } from 'graphql';

/** What a live transport sends: executed and formatted (codes, masking) by the hub. */
export type LiveResult = FormattedExecutionResult;

/** How often a waiting replay looks whether the socket took what it buffered. */
const ROOM_POLL_MS = 50;

/** One result as the hub executed it: serialized once (`json`) for every subscriber sharing it;
 * `bytes` is the UTF-8 length of `json`. */
export interface LiveFrame {
  result: LiveResult;
  json: string;
  bytes: number;
}

/** A result not executed by the hub (a final error), serialized here. */
export function frameOf(result: LiveResult): LiveFrame {
  const json = JSON.stringify(result);
  return { result, json, bytes: Buffer.byteLength(json) };
}

/** Where an attached channel's results go as they come (a connection's frame writer, which
 * writes what one tick hands it together). */
export interface FrameSink {
  write(frame: LiveFrame): void;
}

type Item = LiveFrame;

/**
 * The outbound queue of one subscription, consumed by its transport as an async iterator. The
 * transport pulls the next result only once the previous one was handed to the socket, so
 * what waits here plus what the socket still buffers is what a slow client owes; `overflow`
 * fires once that passes `maxBytes` (the transport then closes the connection).
 *
 * A transport may instead `attach` a sink: results then go to it as they are pushed (the
 * socket's buffer is the queue, and the same limit applies to it), and the iterator yields only
 * the final result, once the stream ends.
 */
export class Channel implements AsyncIterableIterator<LiveResult> {
  private queue: Item[] = [];
  private queuedBytes = 0;
  private pull?: (value: IteratorResult<LiveFrame>) => void;
  private roomWaiters: (() => void)[] = [];
  private ended = false;
  private finalResult?: LiveResult;
  private closedListeners: (() => void)[] = [];
  private sink?: FrameSink;

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
  push(frame: LiveFrame): boolean {
    if (this.ended) return false;
    if (this.sink) {
      // As for the queue: a result larger than the limit still goes out when nothing is owed.
      // The stream ends at once: what the socket holds is all the client gets before the close.
      const owed = this.bufferedBytes();
      if (owed > 0 && owed + frame.bytes > this.maxBytes) {
        this.tooSlow();
        return false;
      }
      this.sink.write(frame);
      return true;
    }
    if (this.pull) {
      const pull = this.pull;
      this.pull = undefined;
      pull({ value: frame, done: false });
      return true;
    }
    if (this.queuedBytes + frame.bytes + this.bufferedBytes() > this.maxBytes && this.queue.length > 0) {
      this.overflow();
      return false;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.bytes;
    return true;
  }

  /**
   * From now on results go straight to `sink` (those queued first, in order); the iterator
   * then yields only the final result. Attaching twice keeps the first sink.
   */
  attach(sink: FrameSink): void {
    if (this.sink) return;
    this.sink = sink;
    for (const item of this.queue.splice(0)) sink.write(item);
    this.queuedBytes = 0;
    if (this.roomWaiters.length) this.roomWaiters.slice().forEach((check) => check());
  }

  /** What the client still owes: this queue plus what its socket has not taken yet. */
  get owedBytes(): number {
    return this.queuedBytes + this.bufferedBytes();
  }

  /**
   * Resolves true once the client owes at most `limitBytes` (queue and socket), or the stream
   * ended; false when that did not happen within `timeoutMs` (a stalled reader). Replays wait
   * here before building each result, so a replay holds at most one result beyond what the
   * client is reading, and a reader that never reads cannot hold a replay forever.
   */
  waitForRoom(limitBytes: number, timeoutMs: number): Promise<boolean> {
    if (this.ended || this.owedBytes <= limitBytes) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        clearTimeout(poll);
        if (this.ended || this.owedBytes <= limitBytes) return finish(true);
        // The socket drains without telling the queue: look again shortly.
        poll = setTimeout(check, ROOM_POLL_MS);
      };
      const finish = (room: boolean) => {
        clearTimeout(poll);
        clearTimeout(deadline);
        this.roomWaiters = this.roomWaiters.filter((w) => w !== check);
        resolve(room);
      };
      let poll = setTimeout(check, ROOM_POLL_MS);
      const deadline = setTimeout(() => finish(this.ended || this.owedBytes <= limitBytes), timeoutMs);
      this.roomWaiters.push(check);
    });
  }

  /** The client is too slow for this stream (a replay it does not read, live results held
   * past the limit): the transport closes its connection, as on an overflow. */
  tooSlow(): void {
    if (this.ended) return;
    this.overflow();
    this.end();
  }

  /** Ends the stream after what is queued, optionally with one last result (an error). */
  end(finalResult?: LiveResult): void {
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
      pull({ value: frameOf(last), done: false });
    } else {
      pull({ value: undefined, done: true });
    }
  }

  /** The next result with its serialized text (what the transports write). */
  nextFrame(): Promise<IteratorResult<LiveFrame>> {
    const item = this.queue.shift();
    if (item) {
      this.queuedBytes -= item.bytes;
      if (this.roomWaiters.length) this.roomWaiters.slice().forEach((check) => check());
      return Promise.resolve({ value: item, done: false });
    }
    if (this.ended) {
      if (this.finalResult) {
        const last = this.finalResult;
        this.finalResult = undefined;
        return Promise.resolve({ value: frameOf(last), done: false });
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => (this.pull = resolve));
  }

  next(): Promise<IteratorResult<LiveResult>> {
    return this.nextFrame().then((next) => (next.done ? next : { value: next.value.result, done: false }));
  }

  /** The frames, for a transport that writes the serialized text. */
  async *frames(): AsyncGenerator<LiveFrame, void, undefined> {
    try {
      for (;;) {
        const next = await this.nextFrame();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      void this.return();
    }
  }

  /** The transport stops the stream (client completed it, or the socket closed). */
  return(): Promise<IteratorResult<LiveResult>> {
    this.queue = [];
    this.queuedBytes = 0;
    this.finalResult = undefined;
    this.end();
    if (this.pull) this.flushEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<LiveResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
