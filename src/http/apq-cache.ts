import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { DataSource } from 'typeorm';
import { BoundedMap } from '../common/bounded-map';

/** Documents kept in the shared table; the least recently used beyond it are deleted. */
export const APQ_MAX_ENTRIES = 2000;
/** A longer document is not persisted (its client keeps sending it whole, which still works). */
export const APQ_MAX_DOCUMENT_BYTES = 100_000;
const LOCAL_ENTRIES = 500;
const TRIM_EVERY = 50;

/**
 * Apollo's automatic persisted queries, shared by every server process through the
 * `hub_persisted_queries` table on the primary, so a hash registered on one process is found on
 * the next (a per-process cache answered PersistedQueryNotFound there). Apollo checks that a
 * document matches its sha256 before storing it, so a small per-process LRU in front can only
 * save a round trip, never change an answer. Failures are misses: the client then sends the
 * whole document. The table is bounded (APQ_MAX_ENTRIES, least recently used go first).
 */
export class SharedApqCache implements KeyValueCache<string> {
  private readonly local = new BoundedMap<string, string>(LOCAL_ENTRIES);
  private writes = 0;
  /** Writes in flight, by document hash: Apollo does not await `set` before it answers. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly dataSource: DataSource) {}

  async get(key: string): Promise<string | undefined> {
    const hit = this.local.get(key);
    if (hit !== undefined) return hit;
    try {
      // TypeORM answers an UPDATE … RETURNING with [rows, count].
      const [rows] = await this.dataSource.query(
        `UPDATE hub_persisted_queries SET used_at = now() WHERE key = $1 RETURNING document`,
        [key],
      );
      const document: string | undefined = rows[0]?.document;
      if (document !== undefined) this.local.set(key, document);
      return document;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: string): Promise<void> {
    if (Buffer.byteLength(value) > APQ_MAX_DOCUMENT_BYTES) return Promise.resolve();
    this.local.set(key, value);
    // Apollo's key is `apq:<sha256>`; the answer's plugin asks by the hash alone.
    const hash = key.slice(key.lastIndexOf(':') + 1);
    const write = this.write(key, value).finally(() => {
      if (this.pending.get(hash) === write) this.pending.delete(hash);
    });
    this.pending.set(hash, write);
    return write;
  }

  /**
   * Resolves once the registration of `hash` this process has in flight (if any) is stored, so
   * that the answer to a registering request leaves only when every process can find the hash:
   * a client that sends the hash alone next, to another process, is not told PersistedQueryNotFound.
   */
  registered(hash: string): Promise<void> {
    return this.pending.get(hash) ?? Promise.resolve();
  }

  private async write(key: string, value: string): Promise<void> {
    try {
      await this.dataSource.query(
        `INSERT INTO hub_persisted_queries (key, document) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET used_at = now()`,
        [key, value],
      );
      if (++this.writes % TRIM_EVERY === 0) await this.trim();
    } catch {
      // A cache: the document still runs; the next process asks the client for it again.
    }
  }

  async delete(key: string): Promise<boolean> {
    this.local.delete(key);
    await this.dataSource.query(`DELETE FROM hub_persisted_queries WHERE key = $1`, [key]).catch(() => undefined);
    return true;
  }

  /** Deletes the least recently used documents beyond APQ_MAX_ENTRIES. */
  async trim(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM hub_persisted_queries WHERE key IN (
         SELECT key FROM hub_persisted_queries ORDER BY used_at DESC, key OFFSET ${APQ_MAX_ENTRIES})`,
    );
  }

}
