import { DataSource } from 'typeorm';
import { staleStreamSessionsLocked } from '../consistency/locks';
import { Logger } from '../logger';

/**
 * The stream sweep: every message still STREAMING whose last append (or, without one, its
 * posting) is older than `timeoutSeconds` before `now` becomes FAILED, stamped on its session's
 * message clock like a finish (so `messageChanged` followers see it end), and its session's
 * `updatedAt` moves forward as with any change to its messages: one statement.
 *
 * Safe with any number of processes sweeping at once and with the API writing: the sessions of
 * the due messages are locked first, in id order, FOR NO KEY UPDATE SKIP LOCKED (the lock order:
 * sessions, then their messages), so a sweep never waits for a writer nor for another sweep, and
 * a session busy now is simply swept next time; the UPDATE checks the status again on the locked
 * rows, so a message finished or appended to meanwhile is left alone. Messages of soft-deleted
 * sessions are not swept: a restore brings them back as they were, and the next sweep decides.
 * Returns the ids of the messages failed.
 */
export async function failStaleStreams(
  dataSource: DataSource,
  props: { timeoutSeconds: number; now?: Date; /** Only these sessions (a targeted run, a test). */ sessionIds?: string[] },
): Promise<string[]> {
  const cutoff = new Date((props.now ?? new Date()).getTime() - props.timeoutSeconds * 1000);
  const rows: { id: string }[] = await dataSource.query(
    `WITH locked AS ${staleStreamSessionsLocked('$1', props.sessionIds ? '$2' : undefined)},
     failed AS (
       UPDATE messages m SET status = 'FAILED', changed_at = hub_message_created_at(m.session_id)
       FROM locked l
       WHERE m.session_id = l.id AND m.status = 'STREAMING' AND m.deleted_at IS NULL AND COALESCE(m.changed_at, m.created_at) < $1::timestamptz
       RETURNING m.id, m.session_id),
     touched AS (
       UPDATE sessions s SET updated_at = GREATEST(date_trunc('milliseconds', clock_timestamp()), s.updated_at + interval '1 millisecond')
       WHERE s.id IN (SELECT session_id FROM failed))
     SELECT id FROM failed`,
    props.sessionIds ? [cutoff.toISOString(), props.sessionIds] : [cutoff.toISOString()],
  );
  return rows.map((r) => r.id);
}

export interface StreamSweeper {
  /** One sweep now (what the timer runs). */
  runOnce(): Promise<string[]>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/**
 * Runs the sweep on a schedule: every tenth of the timeout (at least every second, at most every
 * minute), so a stream is failed at most that long after its timeout. A failed sweep is logged
 * and tried again at the next tick.
 */
export function startStreamSweeper(deps: { dataSource: DataSource; timeoutSeconds: number; logger: Logger }): StreamSweeper {
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = (): Promise<string[]> => {
    const next = running.then(async () => {
      const failed = await failStaleStreams(deps.dataSource, { timeoutSeconds: deps.timeoutSeconds });
      if (failed.length > 0) deps.logger.info({ messages: failed.length }, 'streams left unfinished past HUB_STREAM_TIMEOUT marked FAILED');
      return failed;
    });
    running = next.catch(() => undefined);
    return next;
  };
  const everyMs = Math.min(60_000, Math.max(1000, (deps.timeoutSeconds * 1000) / 10));
  const timer = setInterval(() => runOnce().catch((error) => deps.logger.warn({ err: error }, 'stream sweep failed')), everyMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
