/**
 * The client examples (issue #16, item 4) run against the live test server as a team would run
 * them: the Dashboard, a second page, a posted message that updates the cached session without a
 * refetch, and not one warning or error printed by the client libraries.
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

async function memberWithSessions(): Promise<User> {
  const member = await f.user();
  for (let i = 0; i < 5; i += 1) {
    const session = await f.session(member, { title: `Example ${i}` });
    await f.message(session, { content: `hello ${i}` });
    await f.nodeSync(session, `node-${i}`, 'SYNCED' as never);
  }
  return member;
}

describe('client examples against the live server', () => {
  it('Apollo Client 4: Dashboard, fetchMore, a posted message updates the cached session; no warnings', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => runApolloExample(t.url, t.tokenFor(member), 2));
    expect(warnings).toEqual([]);
    expect(value.firstPage).toBe(2);
    expect(value.afterFetchMore).toBe(4);
    expect(value.messageCountAfter).toBe(value.messageCountBefore + 1);
    expect(value.lastMessageAfter).toBe('Posted from Apollo Client');
    // Dashboard, its second page, a detail view, the mutation: the updated session came from the mutation's answer.
    expect(value.requests).toEqual(['Dashboard', 'Dashboard', 'SessionDetail', 'PostMessage']);
  });

  it('urql 6 with Graphcache: the same, its queries sent by GET; no warnings', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => runUrqlExample(t.url, t.tokenFor(member), 2));
    expect(warnings).toEqual([]);
    expect(value.firstPage).toBe(2);
    expect(value.afterFetchMore).toBe(4);
    expect(value.messageCountAfter).toBe(value.messageCountBefore + 1);
    expect(value.lastMessageAfter).toBe('Posted from urql');
    expect(value.requests).toEqual(['GET Dashboard', 'GET Dashboard', 'POST PostMessage']);
  });

  it('the typed client runs its Dashboard document', async () => {
    const member = await memberWithSessions();
    const { value, warnings } = await printed(() => fetchDashboard(t.url, t.tokenFor(member), { first: 3 }));
    expect(warnings).toEqual([]);
    expect(value.sessions.edges).toHaveLength(3);
  });
});
