/**
 * The client examples (issue #16, item 4) run against the live test server as a team would run
 * them: the Dashboard, a second page, a posted message that updates the cached session without a
 * refetch, and not one warning or error printed by the client libraries. With the caches'
 * default configuration (only the libraries' Relay pagination helpers, no keys or merge
 * functions: issue #25, item 2), a detail view selecting other fields of the sync rows and of a
 * message's audio loses no row of the paged list.
 */
import { runApolloExample } from '../../examples/apollo-client/run';
import { runUrqlExample } from '../../examples/urql-client/run';
import { fetchDashboard } from '../../examples/dashboard-client/run';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';

const { t, f } = useTestServer();

/** Everything written to console.warn / console.error while `work` runs. */
async function printed<T>(work: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const warn = jest.spyOn(console, 'warn').mockImplementation((...args) => void warnings.push(args.map(String).join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...args) => void warnings.push(args.map(String).join(' ')));
  try {
    return { value: await work(), warnings };
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
}

/** Six sessions (the list), each with two sync rows and a last message with audio. */
async function memberWithSessions(): Promise<User> {
  const member = await f.user();
  for (let i = 0; i < 6; i += 1) {
    const session = await f.session(member, { title: `Example ${i}` });
    const audio = { audioKey: `audio/${session.id}/${'0'.repeat(31)}${i}.ogg`, audioContentType: 'audio/ogg', audioByteSize: 100 + i };
    await f.message(session, { content: `hello ${i}`, ...audio });
    await f.nodeSync(session, `node-${i}`, 'SYNCED' as never);
    await f.nodeSync(session, 'node-shared', 'PENDING' as never);
  }
  return member;
}

describe('client examples against the live server', () => {
  it('Apollo Client 4: Dashboard, fetchMore, a posted message updates the cached session; no warnings', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => runApolloExample(t.url, t.tokenFor(member), 3));
    expect(warnings).toEqual([]);
    expect(value.firstPage).toBe(3);
    expect(value.afterFetchMore).toBe(6);
    expect(value.afterDetail).toBe(6);
    expect(value.messageCountAfter).toBe(value.messageCountBefore + 1);
    expect(value.lastMessageAfter).toBe('Posted from Apollo Client');
    // Dashboard, its second page, a detail view, the mutation: the updated session came from the mutation's answer.
    expect(value.requests).toEqual(['Dashboard', 'Dashboard', 'SessionDetail', 'PostMessage']);
  });

  it('urql 6 with Graphcache: the same, its queries sent by GET; no warnings', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => runUrqlExample(t.url, t.tokenFor(member), 3));
    expect(warnings).toEqual([]);
    expect(value.firstPage).toBe(3);
    expect(value.afterFetchMore).toBe(6);
    expect(value.afterDetail).toBe(6);
    expect(value.messageCountAfter).toBe(value.messageCountBefore + 1);
    expect(value.lastMessageAfter).toBe('Posted from urql');
    expect(value.requests).toEqual(['GET Dashboard', 'GET Dashboard', 'GET SessionDetail', 'POST PostMessage']);
  });

  it('the typed client runs its Dashboard document', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => fetchDashboard(t.url, t.tokenFor(member), { first: 3 }));
    expect(warnings).toEqual([]);
    expect(value.sessions.edges).toHaveLength(3);
  });
});

describe('identities of NodeSync and Audio (issue #25, item 2)', () => {
  it('are stable across reads and reports, one per object, and never another object\'s id', async () => {
    const member = await memberWithSessions();
    const query = `{ sessions(first: 10) { nodes { id nodeSync { id nodeId }
      lastMessage { id audio { id key } } messages(first: 5) { nodes { id audio { id key } } } } } }`;
    const read = async () => (await t.gql(query, {}, { as: member })).data.sessions.nodes as any[];
    const before = await read();
    const report = 'mutation($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { nodeSync { id nodeId } } }';
    const reported = await t.gql(report, { input: { sessionId: before[0].id, nodeId: 'node-shared', status: 'SYNCED' } }, { as: member });
    expect(reported.errors).toBeUndefined();
    const after = await read();
    expect(after).toEqual(before);
    const sync = before.flatMap((s) => s.nodeSync.map((n: any) => ({ session: s.id, ...n })));
    expect(reported.data.reportNodeSync.nodeSync).toEqual(before[0].nodeSync);
    const audio = before.flatMap((s) => [s.lastMessage.audio, ...s.messages.nodes.map((m: any) => m.audio)]);
    // The same key read through two fields is one object with one id; distinct objects, distinct ids.
    expect(new Set(audio.map((a) => a.id)).size).toBe(new Set(audio.map((a) => a.key)).size);
    expect(new Set(sync.map((n) => n.id)).size).toBe(sync.length);
    const nodeIds = before.flatMap((s) => [s.id, s.lastMessage.id, ...s.messages.nodes.map((m: any) => m.id)]);
    const all = [...new Set(nodeIds), ...new Set(audio.map((a) => a.id)), ...sync.map((n) => n.id)];
    expect(new Set(all).size).toBe(all.length);
  });
});
