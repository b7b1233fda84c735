import { Queryable } from '../db/query-rows';
import { SqlParams } from '../db/sql-params';
import { byPosition, viewerKeysRelation, ViewerKeysBatch } from '../db/viewer-keys';
import { sessionScopeOfRow } from '../sessions/session.scope';

/** A message's content from character `from` on: the key of the `messageTail` loader. */
export const tailKey = (messageId: string, from: number) => `${messageId}:${from}`;

/**
 * The content of messages from a character offset on (keys: `tailKey`), each for its own viewer,
 * in one statement whatever the number of keys and viewers: a 32,000-character delta cannot ride
 * in a notification. Messages deleted, in a deleted session or out of the viewer's scope: null.
 */
export function tailsForViewers(db: Queryable): ViewerKeysBatch<string, { from: number; tail: string } | null> {
  return async (keys) => {
    const split = keys.map(({ viewer, key }) => {
      const at = key.lastIndexOf(':');
      return { viewer, key: key.slice(0, at), from: Number(key.slice(at + 1)) };
    });
    const params = new SqlParams();
    const from = viewerKeysRelation(params, split, 'w', [{ name: 'start', type: 'int', values: split.map((k) => k.from) }]);
    const rows = await db.query<{ _nth: string; from: number; tail: string }>(
      `SELECT w.nth AS "_nth", w.start AS "from", substring(m.content FROM w.start + 1) AS tail
       FROM ${from} JOIN messages m ON m.id = w.key JOIN sessions s ON s.id = m.session_id
       WHERE m.deleted_at IS NULL AND s.deleted_at IS NULL AND ${sessionScopeOfRow('s', 'w.viewer_id', 'w.viewer_admin')}`,
      params.values,
    );
    return byPosition(keys.length, rows, (row) => ({ from: row.from, tail: row.tail }));
  };
}
