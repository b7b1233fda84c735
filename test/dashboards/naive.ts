import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { rowsOf } from './data';

export type Rows = Awaited<ReturnType<typeof rowsOf>>;
export type Deleted = 'ACTIVE' | 'DELETED' | 'ALL';
export interface NaiveFilter {
  userId?: string;
  deleted?: Deleted;
  search?: string;
}

const time = (d: Date | null) => (d ? d.getTime() : null);

/** A text as search reads it: plain text, whatever markup it holds. PostgreSQL's parser reads `<…>`
 * as a tag and `&…;` as an entity and drops both, so it is given the text HTML-escaped. */
export const searchable = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Whether a text matches a search, asked of PostgreSQL's operator one text at a time (no index). */
export async function textMatches(ds: DataSource, texts: string[], search: string): Promise<boolean[]> {
  if (!texts.length) return [];
  const rows: { hit: boolean }[] = await ds.query(
    `SELECT to_tsvector('english', t) @@ websearch_to_tsquery('english', $2) AS hit FROM unnest($1::text[]) WITH ORDINALITY AS x(t, o) ORDER BY o`,
    [texts.map(searchable), search],
  );
  return rows.map((r) => r.hit);
}

/** The sessions `sessions(filter)` should list for a viewer, computed row by row. */
export async function naiveSessions(ds: DataSource, rows: Rows, viewer: User, filter: NaiveFilter) {
  const deleted = filter.deleted ?? 'ACTIVE';
  let sessions = rows.sessions.filter(
    (s) =>
      (viewer.role === 'ADMIN' || s.user_id === viewer.id) &&
      (filter.userId === undefined || s.user_id === filter.userId) &&
      (deleted === 'ALL' || (deleted === 'ACTIVE') === (s.deleted_at === null)),
  );
  if (filter.search !== undefined) {
    const titleHits = await textMatches(ds, sessions.map((s) => s.title), filter.search);
    const listed = listedMessages(rows, sessions);
    const messageHits = await textMatches(ds, listed.map((m) => m.content), filter.search);
    const withHit = new Set(listed.filter((_, i) => messageHits[i]).map((m) => m.session_id));
    sessions = sessions.filter((s, i) => titleHits[i] || withHit.has(s.id));
  }
  return sessions;
}

/** The messages `Session.messages` lists for these sessions: a live one's live messages, a deleted one's deleted with it. */
export function listedMessages(rows: Rows, sessions: Rows['sessions']) {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  return rows.messages.filter((m) => {
    const s = byId.get(m.session_id);
    return s !== undefined && time(m.deleted_at) === time(s.deleted_at);
  });
}
