import { Viewer } from '../auth/viewer';
import { isoText } from '../db/entity-rows';
import { SqlParams } from '../db/sql-params';
import { filterConditions, SessionFilter } from '../sessions/session.filter';
import { sessionScope } from '../sessions/session.scope';
import { BucketRange } from './activity.buckets';

/** The viewer's sessions under the filter, as conditions on sessions `s`. */
function sessionConditions(viewer: Viewer, filter: SessionFilter, params: SqlParams): string {
  return [params.named(sessionScope(viewer, 's')), ...filterConditions(filter, 's', params)].join(' AND ');
}

/**
 * `Query.activity` as one statement: the buckets from `generate_series` (so empty ones are there,
 * with zeros), left-joined to the session creations and message posts in `[from, to)`, each placed
 * in its bucket by `date_bin` from the first bucket's start. Messages count as `Session.messages`
 * lists them (a live session's live messages, a deleted one's deleted with it); the active users
 * of a bucket are the distinct owners of the sessions created or posted to in it; its tokens, the
 * usage of the messages posted in it (placed by posting time, whenever the usage was reported).
 */
export function activityStatement(viewer: Viewer, range: BucketRange, filter: SessionFilter): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const origin = `${params.add(range.origin.toISOString())}::timestamptz`;
  const width = `${params.add(`${range.widthMs} milliseconds`)}::interval`;
  const from = `${params.add(range.from.toISOString())}::timestamptz`;
  const to = `${params.add(range.to.toISOString())}::timestamptz`;
  const bin = (column: string) => `date_bin(${width}, ${column}, ${origin})`;
  const sql = `WITH events AS (
      SELECT ${bin('s.created_at')} AS start, s.user_id, 1 AS created, 0 AS posted, 0 AS audio, 0 AS input, 0 AS output
      FROM sessions s WHERE ${sessionConditions(viewer, filter, params)} AND s.created_at >= ${from} AND s.created_at < ${to}
      UNION ALL
      SELECT ${bin('m.created_at')}, s.user_id, 0, 1, (m.audio_key IS NOT NULL)::int, COALESCE(m.input_tokens, 0), COALESCE(m.output_tokens, 0)
      FROM messages m JOIN sessions s ON s.id = m.session_id
      WHERE m.created_at >= ${from} AND m.created_at < ${to} AND m.deleted_at IS NOT DISTINCT FROM s.deleted_at
        AND ${sessionConditions(viewer, filter, params)}
    )
    SELECT ${isoText('b.start')} AS "start", COALESCE(sum(e.created), 0)::int AS "sessionsCreated",
      COALESCE(sum(e.posted), 0)::int AS "messagesPosted", COALESCE(sum(e.audio), 0)::int AS "messagesWithAudio",
      count(DISTINCT e.user_id)::int AS "activeUsers",
      LEAST(COALESCE(sum(e.input), 0), 2147483647)::int AS "inputTokens", LEAST(COALESCE(sum(e.output), 0), 2147483647)::int AS "outputTokens"
    FROM generate_series(0, ${params.limit(range.count - 1)}) AS i
    CROSS JOIN LATERAL (SELECT ${origin} + i * ${width} AS start) b
    LEFT JOIN events e ON e.start = b.start
    GROUP BY b.start ORDER BY b.start`;
  return { sql, params: params.values };
}
