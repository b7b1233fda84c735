import { viewerOf } from '../../src/users/token-user';
import { loadConfig } from '../../src/config';
import { sqlScope, SqlStats } from '../../src/db/sql-counter';
import { createLoaders } from '../../src/loaders';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';

const { t, f } = useTestServer();

const POST = `mutation($input: PostMessageInput!) { postMessage(input: $input) { id } }`;
const USAGE = 'usage { inputTokens outputTokens model }';

/** A message with usage, posted through the API (as its owner). */
async function spent(as: User, session: Session, inputTokens: number, outputTokens: number, model: string | null = 'm') {
  const result = await t.gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content: 'x', usage: { inputTokens, outputTokens, model } } }, { as });
  expect(result.errors).toBeUndefined();
  return result.data.postMessage.id as string;
}

async function counted<T>(user: User, work: (loaders: ReturnType<typeof createLoaders>) => Promise<T>) {
  const stats: SqlStats = { statements: 0, log: [] };
  const loaders = createLoaders(t.dataSource, viewerOf(user), loadConfig({}));
  const value = await sqlScope.run(stats, () => work(loaders));
  return { value, statements: stats.statements };
}

const sum = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens, model: null });

describe('token usage', () => {
  it('sums the usage of the messages a session lists, and of the live sessions of a user the viewer sees', async () => {
    const [member, admin] = [await f.user(), await f.admin()];
    const [a, b, gone] = [await f.session(member), await f.session(member), await f.session(member)];
    await spent(member, a, 10, 1);
    await spent(member, a, 20, 2, null);
    const deleted = await spent(member, a, 1000, 1000);
    await t.gql(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: deleted }, { as: member });
    await f.message(a); // no usage reported: counts nothing
    await spent(member, b, 5, 50);
    await spent(member, gone, 7, 7);
    await t.gql(`mutation($id: ID!) { deleteSession(id: $id) { id } }`, { id: gone.id }, { as: member });

    const query = `query($a: ID!, $b: ID!, $u: ID!) { a: session(id: $a) { ${USAGE} } b: session(id: $b) { ${USAGE} } user(id: $u) { ${USAGE} } }`;
    for (const viewer of [member, admin]) {
      const result = await t.gql(query, { a: a.id, b: b.id, u: member.id }, { as: viewer });
      expect(result.data).toEqual({ a: { usage: sum(30, 3) }, b: { usage: sum(5, 50) }, user: { usage: sum(35, 53) } });
    }
    // A soft-deleted session (listed for its owner) sums the messages deleted with it.
    const listed = await t.gql(`{ sessions(filter: { deleted: DELETED }) { nodes { id ${USAGE} } } }`, {}, { as: member });
    expect(listed.data.sessions.nodes).toEqual([{ id: gone.id, usage: sum(7, 7) }]);
  });

  it("shows a message's own usage with its model, and null when none was reported", async () => {
    const member = await f.user();
    const session = await f.session(member);
    const id = await spent(member, session, 3, 4, 'claude-test');
    const plain = await f.message(session);
    const result = await t.gql(`query($a: ID!, $b: ID!) { a: message(id: $a) { ${USAGE} } b: message(id: $b) { ${USAGE} } }`, { a: id, b: plain.id }, { as: member });
    expect(result.data).toEqual({ a: { usage: { inputTokens: 3, outputTokens: 4, model: 'claude-test' } }, b: { usage: null } });
  });

  it("gives a member zeros for a user whose sessions they cannot see, and an empty user zeros", async () => {
    const [member, other, admin] = [await f.user(), await f.user(), await f.admin()];
    await spent(other, await f.session(other), 9, 9);
    const { value } = await counted(member, (l) => Promise.all([l.usageByUserId.load(other.id), l.usageByUserId.load(member.id)]));
    expect(value).toEqual([sum(0, 0), sum(0, 0)]);
    const seen = await counted(admin, (l) => l.usageByUserId.load(other.id));
    expect(seen.value).toEqual(sum(9, 9));
  });

  it('loads the usage of four users with one statement, and of four sessions with one', async () => {
    const admin = await f.admin();
    const users = await Promise.all([1, 2, 3, 4].map(() => f.user()));
    const sessions: Session[] = [];
    for (const [i, user] of users.entries()) {
      const session = await f.session(user);
      sessions.push(session);
      await spent(user, session, i, 10 * i);
    }
    const byUser = await counted(admin, (l) => Promise.all(users.map((u) => l.usageByUserId.load(u.id))));
    expect(byUser.statements).toBe(1);
    expect(byUser.value).toEqual(users.map((_, i) => sum(i, 10 * i)));
    const bySession = await counted(admin, (l) => Promise.all(sessions.map((s) => l.usageBySessionId.load(s.id))));
    expect(bySession.statements).toBe(1);
    expect(bySession.value).toEqual(sessions.map((_, i) => sum(i, 10 * i)));
  });

  it('costs a session list no statement more: Session.usage rides in its page statement', async () => {
    const member = await f.user();
    for (let i = 0; i < 3; i++) await spent(member, await f.session(member), 1, 2);
    const list = (fields: string) => t.gql(`{ sessions(first: 10) { nodes { id messageCount ${fields} } } }`, {}, { as: member });
    const without = await list('');
    const withUsage = await list(USAGE);
    expect(withUsage.sql).toBe(without.sql);
    expect(withUsage.data.sessions.nodes.map((n: { usage: unknown }) => n.usage)).toEqual([sum(1, 2), sum(1, 2), sum(1, 2)]);
  });

  it('adds the tokens of the messages posted in each activity bucket', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const from = new Date(Date.now() - 60_000);
    await spent(member, session, 11, 22);
    await spent(member, session, 100, 200);
    const to = new Date(Date.now() + 60_000);
    const result = await t.gql(
      `query($from: DateTime!, $to: DateTime!) { activity(from: $from, to: $to, bucket: DAY, filter: { userId: "${member.id}" }) { messagesPosted inputTokens outputTokens } }`,
      { from: from.toISOString(), to: to.toISOString() },
      { as: member },
    );
    expect(result.errors).toBeUndefined();
    const totals = result.data.activity.reduce(
      (acc: number[], b: { messagesPosted: number; inputTokens: number; outputTokens: number }) => [acc[0] + b.messagesPosted, acc[1] + b.inputTokens, acc[2] + b.outputTokens],
      [0, 0, 0],
    );
    expect(totals).toEqual([2, 111, 222]);
  });
});
