import { DataSource } from 'typeorm';
import { Written } from '../consistency/prime-after-write';
import { SqlStats, sqlScope } from '../db/sql-counter';
import { WriteDeps, writeTransaction } from '../db/write-transaction';
import { isDatabaseUnavailable } from '../errors.format';
import { Append, AppendOutcome, applyAppends } from './append-group';

/** At most this many appends, and this many characters (UTF-16 units) of deltas, commit together. */
export const GROUP_MAX_APPENDS = 200;
export const GROUP_MAX_CHARACTERS = 1_000_000;

/** What the queue reports of each group it ran (tests and benches observe it). */
export interface GroupFigures {
  appends: number;
  /** Of them, those written (the others were refused, each with its own error). */
  accepted: number;
  /** Statements of the group's transaction (BEGIN and COMMIT included, retries too). */
  statements: number;
  /** The database failed the group as a whole: its appends were then committed one by one. */
  failed: boolean;
}

interface Waiting extends Append {
  deps: WriteDeps;
  /** The request's statement count, credited with the statements of the group that carried it. */
  stats: SqlStats | undefined;
  resolve(written: Written & Required<Pick<Written, 'message'>>): void;
  reject(error: unknown): void;
}

/**
 * Group commit of appends, one queue per process and database. Every streamed token used to be
 * a transaction of its own: four round trips to PostgreSQL holding a pool connection, a TypeORM
 * save and a notification, about 8 ms of server CPU per append. With 100 streams the pools filled
 * with transactions idle between two statements, waiting for their process to be scheduled again
 * (bench/RESULTS-live.md, streams: PostgreSQL itself was mostly waiting for the servers; its
 * serialized commits of notifying transactions took 0.7 ms each, not the limit). Here an append
 * that arrives while a group is committing waits for it, and all that waited commit together in
 * the next transaction (`applyAppends`): one connection, five statements and one notification
 * for the group. An append that finds the queue idle commits at once, alone, so a lone writer
 * waits for nothing.
 *
 * A group holds at most one append per message (a second one waits for the next group, so each
 * is checked against the length the previous one left) and at most GROUP_MAX_APPENDS appends and
 * GROUP_MAX_CHARACTERS characters. Each append gets its own outcome: its written rows or its own
 * coded error. A group the database fails as a whole (after `writeTransaction`'s retries of
 * deadlocks) is committed again one append at a time, so an error that one append causes fails
 * only that one, with the error a lone append gets; when the database is unreachable, every
 * append of the group gets that error at once. Nothing is answered before its group committed.
 */
export class AppendQueue {
  private waiting: Waiting[] = [];
  private committing = false;
  private readonly listeners = new Set<(figures: GroupFigures) => void>();

  /** Appends `append` with the next group; resolves with the rows its transaction wrote. */
  append(deps: WriteDeps, append: Append): Promise<Written & Required<Pick<Written, 'message'>>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...append, deps, stats: sqlScope.getStore(), resolve, reject });
      if (!this.committing) void this.commitWaiting();
    });
  }

  /** Calls `listener` after each group ran; returns the function that stops it. */
  observe(listener: (figures: GroupFigures) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether a group is committing, and how many appends wait for the next one. */
  state(): { committing: boolean; waiting: number } {
    return { committing: this.committing, waiting: this.waiting.length };
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    try {
      while (this.waiting.length > 0) await this.commit(this.nextGroup());
    } finally {
      this.committing = false;
    }
  }

  /** The next group, in arrival order: the first waiting append of each message, within the bounds. */
  private nextGroup(): Waiting[] {
    const group: Waiting[] = [];
    const left: Waiting[] = [];
    const messages = new Set<string>();
    let characters = 0;
    for (const append of this.waiting) {
      const fits = group.length < GROUP_MAX_APPENDS && (group.length === 0 || characters + append.delta.length <= GROUP_MAX_CHARACTERS);
      if (fits && !messages.has(append.id)) {
        group.push(append);
        messages.add(append.id);
        characters += append.delta.length;
      } else left.push(append);
    }
    this.waiting = left;
    return group;
  }

  private async commit(group: Waiting[]): Promise<void> {
    // The group's statements run on behalf of every request in it: each request counts them.
    const stats: SqlStats = { statements: 0, log: group.some((w) => w.stats?.log) ? [] : undefined };
    let outcomes: AppendOutcome[];
    try {
      outcomes = await sqlScope.run(stats, () => writeTransaction(group[0].deps, (manager) => applyAppends(manager, group)));
    } catch (error) {
      credit(group, stats);
      this.report({ appends: group.length, accepted: 0, statements: stats.statements, failed: true });
      if (group.length === 1 || isDatabaseUnavailable(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      group[0].deps.logger.warn({ err: error, appends: group.length }, 'a group of appends failed: committing each on its own');
      for (const waiting of group) await this.commit([waiting]);
      return;
    }
    credit(group, stats);
    group.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if ('error' in outcome) waiting.reject(outcome.error);
      else waiting.resolve(outcome.written);
    });
    const accepted = outcomes.filter((outcome) => 'written' in outcome).length;
    this.report({ appends: group.length, accepted, statements: stats.statements, failed: false });
  }

  private report(figures: GroupFigures): void {
    for (const listener of this.listeners) listener(figures);
  }
}

function credit(group: Waiting[], stats: SqlStats): void {
  for (const { stats: own } of group) {
    if (!own) continue;
    own.statements += stats.statements;
    if (own.log && stats.log) own.log.push(...stats.log);
  }
}

/**
 * One queue per database, shared by every request of the process: grouping is worth only what
 * the requests it can join. Keyed by the primary DataSource itself (a request's `dataSource` may
 * be a read-routing or confirming facade over it), so it dies with it, and a second server in the
 * same process on its own DataSource groups apart.
 */
const queues = new WeakMap<DataSource, AppendQueue>();

export function appendQueueOf(dataSource: DataSource): AppendQueue {
  const primary = dataSource.manager.connection;
  let queue = queues.get(primary);
  if (!queue) queues.set(primary, (queue = new AppendQueue()));
  return queue;
}
