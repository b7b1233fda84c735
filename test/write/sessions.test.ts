import { randomUUID } from 'node:crypto';
import { Message } from '../../src/messages/message.entity';
import { Session } from '../../src/sessions/session.entity';
import { codes, invalidFields, useTestServer } from '../harness';
import { CREATE_SESSION, DELETE_MESSAGE, DELETE_SESSION, POST_MESSAGE, PURGE_SESSION, RESTORE_SESSION, UPDATE_SESSION } from './documents';
import { liveMessageIds } from '../invariants';

const { t, f } = useTestServer({}, { invariants: true });

async function row(id: string): Promise<Session | null> {
  return t.dataSource.getRepository(Session).findOne({ where: { id }, withDeleted: true });
}

describe('createSession', () => {
  it('creates a session owned by the viewer, at version 1, with the skills attached once', async () => {
    const member = await f.user();
    const [a, b] = [await f.skill(), await f.skill()];
    const result = await t.gql(CREATE_SESSION, { input: { title: '  Plan  ', skillIds: [a.id, b.id, a.id] } }, { as: member });
    expect(result.errors).toBeUndefined();
    const created = result.data.createSession;
    expect(created).toMatchObject({ title: 'Plan', version: 1, isSyncing: false, deletedAt: null });
    expect((await row(created.id))!.userId).toBe(member.id);
    const links = await t.dataSource.query('SELECT skill_id FROM session_skills WHERE session_id = $1 ORDER BY skill_id', [created.id]);
    expect(links.map((l: { skill_id: string }) => l.skill_id)).toEqual([a.id, b.id].sort());
  });

  it('lets an ADMIN create a session for another user', async () => {
    const [admin, member] = [await f.admin(), await f.user()];
    const result = await t.gql(CREATE_SESSION, { input: { title: 'For you', ownerId: member.id } }, { as: admin });
    expect((await row(result.data.createSession.id))!.userId).toBe(member.id);
  });

  it('forbids a MEMBER naming another owner', async () => {
    const [member, other] = [await f.user(), await f.user()];
    const result = await t.gql(CREATE_SESSION, { input: { title: 'Nope', ownerId: other.id } }, { as: member });
    expect(codes(result)).toEqual(['FORBIDDEN']);
  });

  it('is NOT_FOUND for an unknown owner or a deleted skill, and writes nothing', async () => {
    const admin = await f.admin();
    const title = `ghost-${randomUUID()}`;
    expect(codes(await t.gql(CREATE_SESSION, { input: { title, ownerId: randomUUID() } }, { as: admin }))).toEqual(['NOT_FOUND']);
    const skill = await f.skill();
    await t.dataSource.getRepository('Skill').softRemove(skill);
    expect(codes(await t.gql(CREATE_SESSION, { input: { title, skillIds: [skill.id] } }, { as: admin }))).toEqual(['NOT_FOUND']);
    expect(await t.dataSource.query('SELECT id FROM sessions WHERE title = $1', [title])).toEqual([]);
  });

  it('lists every invalid field: empty title, malformed owner, too many skills', async () => {
    const member = await f.user();
    const skillIds = Array.from({ length: 101 }, () => randomUUID());
    const result = await t.gql(CREATE_SESSION, { input: { title: '', ownerId: 'nope', skillIds } }, { as: member });
    expect(invalidFields(result).sort()).toEqual(expect.arrayContaining(['input.ownerId', 'input.skillIds', 'input.title']));
  });

  it('counts the title in characters: 200 are fine, 201 are not, NUL never reaches the database', async () => {
    const member = await f.user();
    const emoji = '😀'.repeat(200);
    expect((await t.gql(CREATE_SESSION, { input: { title: emoji } }, { as: member })).errors).toBeUndefined();
    expect(invalidFields(await t.gql(CREATE_SESSION, { input: { title: `${emoji}x` } }, { as: member }))).toEqual(['input.title']);
    expect(invalidFields(await t.gql(CREATE_SESSION, { input: { title: 'a\u0000b' } }, { as: member }))).toEqual(['input.title']);
  });
});

describe('updateSession', () => {
  it('changes the title, increments the version and moves updatedAt', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const result = await t.gql(UPDATE_SESSION, { id: session.id, input: { title: 'New', expectedVersion: 1 } }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.updateSession).toMatchObject({ title: 'New', version: 2 });
    expect(Date.parse(result.data.updateSession.updatedAt)).toBeGreaterThan(session.updatedAt.getTime());
  });

  it('is CONFLICT for a stale expectedVersion and changes nothing', async () => {
    const member = await f.user();
    const session = await f.session(member, { title: 'Old' });
    await t.gql(UPDATE_SESSION, { id: session.id, input: { title: 'First' } }, { as: member });
    const stale = await t.gql(UPDATE_SESSION, { id: session.id, input: { title: 'Second', expectedVersion: 1 } }, { as: member });
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(await row(session.id)).toMatchObject({ title: 'First', version: 2 });
  });

  it('lets exactly one of two concurrent editors with the same version win', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const results = await Promise.all(
      ['A', 'B'].map((title) => t.gql(UPDATE_SESSION, { id: session.id, input: { title, expectedVersion: 1 } }, { as: member })),
    );
    expect(results.map((r) => codes(r)[0] ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    expect((await row(session.id))!.version).toBe(2);
  });

  it('rejects a null or empty title as BAD_USER_INPUT', async () => {
    const member = await f.user();
    const session = await f.session(member);
    expect(invalidFields(await t.gql(UPDATE_SESSION, { id: session.id, input: { title: null } }, { as: member }))).toEqual(['input.title']);
    expect(invalidFields(await t.gql(UPDATE_SESSION, { id: 'x', input: { title: ' ' } }, { as: member })).sort()).toEqual(['id', 'input.title']);
  });

  it("is NOT_FOUND for another member's session and for a deleted one", async () => {
    const [member, other] = [await f.user(), await f.user()];
    const theirs = await f.session(other);
    expect(codes(await t.gql(UPDATE_SESSION, { id: theirs.id, input: { title: 'x' } }, { as: member }))).toEqual(['NOT_FOUND']);
    const mine = await f.session(member);
    await t.gql(DELETE_SESSION, { id: mine.id }, { as: member });
    expect(codes(await t.gql(UPDATE_SESSION, { id: mine.id, input: { title: 'x' } }, { as: member }))).toEqual(['NOT_FOUND']);
    expect((await row(theirs.id))!.title).toBe(theirs.title);
  });
});

describe('deleteSession and restoreSession', () => {
  it('stamps the session and its live messages with one deletedAt, and leaves version alone', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const messages = [await f.message(session), await f.message(session)];
    const result = await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    expect(result.errors).toBeUndefined();
    const deletedAt = result.data.deleteSession.deletedAt;
    expect(deletedAt).not.toBeNull();
    expect(result.data.deleteSession.version).toBe(1);
    const stamps = await t.dataSource.getRepository(Message).find({ where: messages.map((m) => ({ id: m.id })), withDeleted: true });
    expect(stamps.map((m) => m.deletedAt!.toISOString())).toEqual([deletedAt, deletedAt]);
  });

  it('restores only the messages deleted with the session', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const kept = await f.message(session);
    const alone = await f.message(session);
    expect((await t.gql(DELETE_MESSAGE, { id: alone.id }, { as: member })).errors).toBeUndefined();
    // Deleted in the same millisecond as the message above would be: the stamps still differ.
    await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    const restored = await t.gql(RESTORE_SESSION, { id: session.id }, { as: member });
    expect(restored.errors).toBeUndefined();
    expect(restored.data.restoreSession.deletedAt).toBeNull();
    expect(await liveMessageIds(t.dataSource, session.id)).toEqual([kept.id]);
  });

  it('tells apart a message deleted in the same millisecond as its session', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const kept = await f.message(session);
    const alone = await f.message(session);
    // Force the message's own stamp into the future, past the session's delete time.
    await t.dataSource.query(`UPDATE messages SET deleted_at = now() + interval '5 seconds' WHERE id = $1`, [alone.id]);
    const deleted = await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    const { deletedAt } = deleted.data.deleteSession;
    const [{ deleted_at: aloneAt }] = await t.dataSource.query('SELECT deleted_at FROM messages WHERE id = $1', [alone.id]);
    expect(Date.parse(deletedAt)).toBeGreaterThan(aloneAt.getTime());
    await t.gql(RESTORE_SESSION, { id: session.id }, { as: member });
    expect(await liveMessageIds(t.dataSource, session.id)).toEqual([kept.id]);
  });

  it('is CONFLICT to delete a deleted session or restore a live one', async () => {
    const member = await f.user();
    const session = await f.session(member);
    expect(codes(await t.gql(RESTORE_SESSION, { id: session.id }, { as: member }))).toEqual(['CONFLICT']);
    await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    expect(codes(await t.gql(DELETE_SESSION, { id: session.id }, { as: member }))).toEqual(['CONFLICT']);
  });

  it("is NOT_FOUND for another member's session, for an unknown id, and BAD_USER_INPUT for a malformed one", async () => {
    const [member, other] = [await f.user(), await f.user()];
    const theirs = await f.session(other);
    expect(codes(await t.gql(DELETE_SESSION, { id: theirs.id }, { as: member }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(DELETE_SESSION, { id: randomUUID() }, { as: member }))).toEqual(['NOT_FOUND']);
    expect(invalidFields(await t.gql(DELETE_SESSION, { id: 'nope' }, { as: member }))).toEqual(['id']);
    expect((await row(theirs.id))!.deletedAt).toBeNull();
  });

  it('lets an ADMIN delete and restore any session', async () => {
    const [admin, member] = [await f.admin(), await f.user()];
    const session = await f.session(member);
    expect((await t.gql(DELETE_SESSION, { id: session.id }, { as: admin })).errors).toBeUndefined();
    expect((await t.gql(RESTORE_SESSION, { id: session.id }, { as: admin })).errors).toBeUndefined();
  });

  it('never leaves a message posted concurrently with a delete alive in the deleted session', async () => {
    const member = await f.user();
    const session = await f.session(member);
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        t.gql(POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: `m${i}` } }, { as: member }),
      ),
      t.gql(DELETE_SESSION, { id: session.id }, { as: member }),
    ]);
    expect(await liveMessageIds(t.dataSource, session.id)).toEqual([]);
  });
});

describe('purgeSession', () => {
  it('hard-deletes a session with its messages, links and node sync rows', async () => {
    const admin = await f.admin();
    const session = await f.session(await f.user());
    await f.message(session);
    await f.link(session, await f.skill());
    await f.nodeSync(session, 'node-a', 'PENDING' as never);
    const result = await t.gql(PURGE_SESSION, { id: session.id }, { as: admin });
    expect(result.data).toEqual({ purgeSession: true });
    for (const table of ['sessions WHERE id', 'messages WHERE session_id', 'session_skills WHERE session_id', 'session_node_sync WHERE session_id']) {
      expect(await t.dataSource.query(`SELECT 1 FROM ${table} = $1`, [session.id])).toEqual([]);
    }
  });

  it('is FORBIDDEN for a MEMBER, even on their own session, and NOT_FOUND for an unknown id', async () => {
    const member = await f.user();
    const session = await f.session(member);
    expect(codes(await t.gql(PURGE_SESSION, { id: session.id }, { as: member }))).toEqual(['FORBIDDEN']);
    expect(await row(session.id)).not.toBeNull();
    expect(codes(await t.gql(PURGE_SESSION, { id: randomUUID() }, { as: await f.admin() }))).toEqual(['NOT_FOUND']);
  });
});
