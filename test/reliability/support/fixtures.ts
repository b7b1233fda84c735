import { DataSource } from 'typeorm';
import { signToken } from '../../../src/auth/tokens';
import { factories } from '../../factories';
import { Ack, LoadTarget } from './load';

export const RELIABILITY_SECRET = 'reliability-secret-that-is-long-enough-for-production';

/** Users, sessions with a few messages, and skills for a load run; tokens signed with `secret`. */
export async function seedLoadTarget(
  dataSource: DataSource,
  graphqlUrl: string,
  options: { secret?: string; members?: number; sessionsPerMember?: number; messagesPerSession?: number; skills?: number } = {},
): Promise<LoadTarget & { adminId: string; memberIds: string[] }> {
  const f = factories(dataSource);
  const secret = options.secret ?? RELIABILITY_SECRET;
  const ttl = 3600;
  const admin = await f.admin();
  const skillIds: string[] = [];
  for (let i = 0; i < (options.skills ?? 8); i += 1) skillIds.push((await f.skill()).id);
  const members: LoadTarget['members'] = [];
  const memberIds: string[] = [];
  for (let m = 0; m < (options.members ?? 6); m += 1) {
    const user = await f.user();
    memberIds.push(user.id);
    const sessionIds: string[] = [];
    for (let s = 0; s < (options.sessionsPerMember ?? 4); s += 1) {
      const session = await f.session(user);
      for (let k = 0; k < (options.messagesPerSession ?? 3); k += 1) await f.message(session);
      sessionIds.push(session.id);
    }
    members.push({ token: signToken(secret, user.id, ttl), sessionIds });
  }
  return { graphqlUrl, adminToken: signToken(secret, admin.id, ttl), adminId: admin.id, members, memberIds, skillIds };
}

export interface AckCheck {
  acknowledged: { messages: number; sessions: number };
  found: { messages: number; sessions: number };
  missing: Ack[];
  /** Messages of this run in the database that the client never saw acknowledged (the answer was lost, not the write). */
  committedWithoutAck: number;
}

/** Every acknowledged write must be in the database, live and unchanged. */
export async function checkAcks(
  query: (sql: string, params: unknown[]) => Promise<any[]>,
  acks: Ack[],
  contentPrefix?: string,
): Promise<AckCheck> {
  const messages = acks.filter((a) => a.kind === 'message');
  const sessions = acks.filter((a) => a.kind === 'session');
  const foundMessages = new Map<string, { content: string; session_id: string }>();
  for (let i = 0; i < messages.length; i += 1000) {
    const rows = await query(`SELECT id, content, session_id FROM messages WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`, [
      messages.slice(i, i + 1000).map((a) => a.id),
    ]);
    for (const r of rows) foundMessages.set(r.id, r);
  }
  const foundSessions = new Set<string>();
  for (let i = 0; i < sessions.length; i += 1000) {
    const rows = await query(`SELECT id FROM sessions WHERE id = ANY($1::uuid[])`, [sessions.slice(i, i + 1000).map((a) => a.id)]);
    for (const r of rows) foundSessions.add(r.id);
  }
  const missing = [
    ...messages.filter((a) => {
      const row = foundMessages.get(a.id);
      return !row || row.content !== a.content || row.session_id !== a.sessionId;
    }),
    ...sessions.filter((a) => !foundSessions.has(a.id)),
  ];
  let committedWithoutAck = 0;
  if (contentPrefix) {
    const [{ count }] = await query(`SELECT count(*)::int AS count FROM messages WHERE content LIKE $1`, [`${contentPrefix}-%`]);
    committedWithoutAck = count - foundMessages.size;
  }
  return {
    acknowledged: { messages: messages.length, sessions: sessions.length },
    found: { messages: messages.length - missing.filter((m) => m.kind === 'message').length, sessions: foundSessions.size },
    missing,
    committedWithoutAck,
  };
}
