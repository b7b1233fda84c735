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
