import { fetchDashboard, summarise } from '../examples/dashboard-client/run';
import { useTestServer } from './harness';

describe('the example dashboard client', () => {
  const { t, f } = useTestServer();

  it('runs its typed Dashboard document against the live server', async () => {
    const member = await f.user();
    const session = await f.session(member, { title: 'Client example' });
    await f.message(session, { content: 'first' });
    const data = await fetchDashboard(t.url, t.tokenFor(member), { first: 5 });
    expect(data.sessions.totalCount).toBe(1);
    const [edge] = data.sessions.edges;
    expect(edge.node).toMatchObject({ id: session.id, title: 'Client example', messageCount: 1, owner: { id: member.id } });
    expect(summarise(data)[1]).toContain('Client example');
  });
});
