import { Context } from '../context';
import { SqlParams } from '../db/sql-params';
import { MessageChangedEvent } from '../live/notifications';
import { sessionScope } from '../sessions/session.scope';

/** `text` from character `start` to `end` (code points, as offsets count them). */
export function sliceCharacters(text: string, start: number, end: number): string {
  let units = 0;
  let index = 0;
  let from = -1;
  for (const character of text) {
    if (index === start) from = units;
    if (index === end) return text.slice(from, units);
    units += character.length;
    index++;
  }
  if (from < 0 && index === start) from = units;
  return from < 0 ? '' : text.slice(from);
}

/** Each message's content from a character offset on, as read by `readTails`. */
export type Tails = Map<string, { from: number; tail: string }>;

/**
 * The text of the appends a batch announced, for the viewer: per message the content from the
 * smallest offset announced to its end, in one statement whatever the number of appends (a
 * 32,000-character delta cannot ride in a notification). Messages deleted, in a deleted session or
 * out of the viewer's scope are left out.
 */
export async function readTails(ctx: Context, events: MessageChangedEvent[]): Promise<Tails> {
  const from = new Map<string, number>();
  for (const event of events) from.set(event.messageId, Math.min(from.get(event.messageId) ?? event.offset, event.offset));
  if (from.size === 0) return new Map();
  const params = new SqlParams();
  const ids = params.add([...from.keys()]);
  const offsets = params.add([...from.values()]);
  const rows: { id: string; from: number; tail: string }[] = await ctx.dataSource.query(
    `SELECT m.id, w.start AS "from", substring(m.content FROM w.start + 1) AS tail
     FROM unnest(${ids}::uuid[], ${offsets}::int[]) AS w(id, start)
     JOIN messages m ON m.id = w.id JOIN sessions s ON s.id = m.session_id
     WHERE m.deleted_at IS NULL AND s.deleted_at IS NULL AND ${params.named(sessionScope(ctx.viewer, 's'))}`,
    params.values,
  );
  return new Map(rows.map((row) => [row.id, { from: row.from, tail: row.tail }]));
}

/** The text one announced append added, from the batch's tails; undefined when its message is gone. */
export function deltaOf(tails: Tails, event: MessageChangedEvent): string | undefined {
  const read = tails.get(event.messageId);
  if (!read) return undefined;
  const start = event.offset - read.from;
  return sliceCharacters(read.tail, start, start + event.length);
}
