import { DocumentNode } from 'graphql';

/**
 * What a request's document costs before it runs: `cached` (found parsed and validated, no work),
 * else `parse`, `validate`, `compile` (graphql-jit) and `cost` (the estimate's walk). A repeated
 * document, sent with the same page sizes, should show only `cached`.
 */
export type DocumentStep = 'cached' | 'parse' | 'validate' | 'compile' | 'cost';
export type CountStep = (step: DocumentStep) => void;

/** Validated documents kept, least recently used out first. */
const MAX_DOCUMENTS = 1000;
/** Total source text of the kept documents (their syntax trees are some tens of times larger). */
const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

/**
 * Parsed and validated documents by the sha256 (hex) of their text, bounded in count and in
 * source size. Pinned documents (the trusted-documents manifest, checked at start) are never evicted.
 */
export class DocumentCache {
  private readonly recent = new Map<string, { document: DocumentNode; bytes: number }>();
  private readonly pinned = new Map<string, DocumentNode>();
  private bytes = 0;

  get(hash: string): DocumentNode | undefined {
    const pinned = this.pinned.get(hash);
    if (pinned) return pinned;
    const entry = this.recent.get(hash);
    if (!entry) return undefined;
    this.recent.delete(hash); // re-inserted: most recently used last
    this.recent.set(hash, entry);
    return entry.document;
  }

  set(hash: string, document: DocumentNode, sourceBytes: number): void {
    if (this.pinned.has(hash) || sourceBytes > MAX_SOURCE_BYTES) return;
    const previous = this.recent.get(hash);
    if (previous) {
      this.recent.delete(hash);
      this.bytes -= previous.bytes;
    }
    this.recent.set(hash, { document, bytes: sourceBytes });
    this.bytes += sourceBytes;
    while (this.recent.size > MAX_DOCUMENTS || this.bytes > MAX_SOURCE_BYTES) {
      const [oldest, entry] = this.recent.entries().next().value as [string, { bytes: number }];
      this.recent.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  pin(hash: string, document: DocumentNode): void {
    this.pinned.set(hash, document);
  }

  get size(): number {
    return this.recent.size + this.pinned.size;
  }
}

/** Viewers remembered by the budget before windows older than a minute are dropped. */
const MAX_TRACKED_VIEWERS = 10_000;
const WINDOW_MS = 60_000;

/**
 * How many documents not yet in the cache each viewer may have parsed, validated and compiled per
 * minute (a fixed one-minute window per viewer). A known document costs nothing; a new one costs
 * the CPU of parsing, validating and compiling it, which the cost limit cannot see.
 */
export class NewDocumentBudget {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number) {}

  /** Charges one new document to the viewer; false when their minute's budget is spent. */
  charge(viewerId: string, now = Date.now()): boolean {
    let window = this.windows.get(viewerId);
    if (!window || now - window.start >= WINDOW_MS) {
      if (!window && this.windows.size >= MAX_TRACKED_VIEWERS) this.dropExpired(now);
      window = { start: now, count: 0 };
      this.windows.set(viewerId, window);
    }
    if (window.count >= this.perMinute) return false;
    window.count += 1;
    return true;
  }

  /** Seconds until the viewer's window ends (for `retry-after`). */
  retryAfterSeconds(viewerId: string, now = Date.now()): number {
    const window = this.windows.get(viewerId);
    return window ? Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000)) : 1;
  }

  private dropExpired(now: number): void {
    for (const [viewer, window] of this.windows) {
      if (now - window.start >= WINDOW_MS) this.windows.delete(viewer);
    }
    // Still full (every tracked viewer active this minute): forget the oldest half rather than grow.
    if (this.windows.size >= MAX_TRACKED_VIEWERS) {
      let drop = Math.floor(this.windows.size / 2);
      for (const viewer of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(viewer);
      }
    }
  }
}
