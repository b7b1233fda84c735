import { viewerOf } from '../../src/users/token-user';
import { loadConfig } from '../../src/config';
import { sqlScope, SqlStats } from '../../src/db/sql-counter';
import { createLoaders } from '../../src/loaders';
import { MESSAGE_ORDERS } from '../../src/messages/message.sql';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';

const { t, f } = useTestServer();

/** Runs `work` with a fresh bag of loaders for `user`, counting the statements it sends. */
async function counted<T>(user: User, work: (loaders: ReturnType<typeof createLoaders>) => Promise<T>) {
  const stats: SqlStats = { statements: 0, log: [] };
  const loaders = createLoaders(t.dataSource, viewerOf(user), loadConfig({}));
  const value = await sqlScope.run(stats, () => work(loaders));
  return { value, statements: stats.statements };
}

describe('loaders', () => {
  it('loads four sessions by id with one statement, null for one out of scope', async () => {
    const member = await f.user();
    const sessions = await Promise.all([f.session(member), f.session(member), f.session(member, { deletedAt: new Date() })]);
    const foreign = await f.session(await f.user());
    const { value, statements } = await counted(member, (l) =>
      Promise.all([...sessions, foreign].map((s) => l.sessionById.load(s.id))),
    );
    expect(statements).toBe(1);
    expect(value.map((s) => s?.id ?? null)).toEqual([...sessions.map((s) => s.id), null]);
  });

  it('loads the message pages of four sessions with one statement', async () => {
    const admin = await f.admin();
    const owner = await f.user();
    const sessions = await Promise.all([1, 2, 3, 4].map(() => f.session(owner)));
    for (const [i, s] of sessions.entries()) for (let j = 0; j <= i; j++) await f.message(s);
    const args = { order: MESSAGE_ORDERS.CREATED_AT_ASC, probe: true, properties: null, size: 2, after: null, before: null, backward: false };
    const { value, statements } = await counted(admin, (l) =>
      Promise.all(sessions.map((s) => l.messagesPageBySessionId.load({ id: s.id, args, argsKey: 'asc|2' }))),
    );
    expect(statements).toBe(1);
    expect(value.map((p) => [p.rows.length, p.hasNextPage])).toEqual([[1, false], [2, false], [2, true], [2, true]]);
  });

  it('loads counts, last messages, skills and node sync of four sessions with one statement each', async () => {
    const owner = await f.user();
    const sessions = await Promise.all([1, 2, 3, 4].map(() => f.session(owner)));
    const skill = await f.skill();
    await f.link(sessions[0], skill);
    await f.message(sessions[1]);
    for (const loader of ['messageCountBySessionId', 'lastMessageBySessionId', 'skillsBySessionId', 'nodeSyncBySessionId', 'sessionCountBySkillId'] as const) {
      const { statements } = await counted(owner, (l) => Promise.all(sessions.map((s) => (l[loader] as any).load(s.id))));
      expect(statements).toBe(1);
    }
    const { value } = await counted(owner, (l) => Promise.all(sessions.map((s) => l.messageCountBySessionId.load(s.id))));
    expect(value).toEqual([0, 1, 0, 0]);
  });

  it('loads the skills, counts, newest messages, message pages and node sync of the same sessions in one statement', async () => {
    const member = await f.user();
    const sessions = await Promise.all([1, 2, 3].map(() => f.session(member)));
    const foreign = await f.session(await f.user());
    const skill = await f.skill();
    await f.link(sessions[0], skill);
    await f.link(foreign, skill);
    const newest = await f.message(sessions[1]);
    await f.message(foreign);
    const ids = [...sessions, foreign].map((s) => s.id);
    const args = { order: MESSAGE_ORDERS.CREATED_AT_DESC, probe: true, properties: null, size: 2, after: null, before: null, backward: false };
    const { value, statements } = await counted(member, (l) =>
      Promise.all([
        Promise.all(ids.map((id) => l.skillsBySessionId.load(id))),
        Promise.all(ids.map((id) => l.messageCountBySessionId.load(id))),
        Promise.all(ids.map((id) => l.lastMessageBySessionId.load(id))),
        Promise.all(ids.map((id) => l.messagesPageBySessionId.load({ id, args, argsKey: 'desc|2' }))),
        Promise.all(ids.map((id) => l.nodeSyncBySessionId.load(id))),
      ]),
    );
    expect(statements).toBe(1);
    const [skills, counts, last, pages, syncs] = value;
    // The other member's session is out of scope: no skills, no messages, as if it had none.
    expect(skills.map((list) => list.map((k) => k.id))).toEqual([[skill.id], [], [], []]);
    expect(counts).toEqual([0, 1, 0, 0]);
    expect(last.map((m) => m?.id ?? null)).toEqual([null, newest.id, null, null]);
    expect(pages.map((p) => p.rows.map((m) => m.id))).toEqual([[], [newest.id], [], []]);
    expect(syncs).toEqual([[], [], [], []]);
  });

  it('loads users by id only within the viewer’s scope', async () => {
    const member = await f.user();
    const others = await Promise.all([f.user(), f.user(), f.user()]);
    const ids = [member, ...others].map((u) => u.id);
    const asMember = await counted(member, (l) => Promise.all(ids.map((id) => l.userById.load(id))));
    expect(asMember.statements).toBe(1);
    expect(asMember.value.map((u) => u?.id ?? null)).toEqual([member.id, null, null, null]);
    const asAdmin = await counted(await f.admin(), (l) => Promise.all(ids.map((id) => l.userById.load(id))));
    expect(asAdmin.statements).toBe(1);
    expect(asAdmin.value.map((u) => u?.id)).toEqual(ids);
  });
});
