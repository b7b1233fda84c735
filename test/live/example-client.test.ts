import { followMessages, MessageEdge } from '../../examples/dashboard-client/follow';
import { useTestServer } from '../harness';
import { sleep, subscribed } from './support/clients';

/** Issue 14, item 5: the example client's typed `messageAdded` resumes from its last cursor. */

const { t, f } = useTestServer();

const POST = 'mutation ($input: PostMessageInput!) { postMessage(input: $input) { id } }';

describe('the example client following a session', () => {
  it('receives messages live, and after the server drops the connection resumes from its last cursor: none missed, none twice', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    await f.message(session, { content: 'before following' });
    const got: MessageEdge[] = [];
    const follower = followMessages(t.url, t.tokenFor(owner), session.id, (edge) => got.push(edge), { retryDelayMs: 100 });
    const post = (content: string) => t.gql(POST, { input: { sessionId: session.id, role: 'USER', content } }, { as: owner });
    try {
      const before = t.server.live.hub.subscriberCount;
      await subscribed(t.server.live.hub, before + 1).catch(() => undefined);
      await sleep(100);
      for (const content of ['one', 'two']) await post(content);
      const until = async (n: number) => {
        const deadline = Date.now() + 10_000;
        while (got.length < n && Date.now() < deadline) await sleep(10);
      };
      await until(2);
      // A restart's going-away: the follower resumes with `after` = the cursor of "two".
      t.server.live.transports.dropConnections();
      for (const content of ['three', 'four']) await post(content);
      await until(4);
      await post('five');
      await until(5);
      await sleep(200);
      expect(got.map((e) => e.node.content)).toEqual(['one', 'two', 'three', 'four', 'five']);
      expect(follower.resumes).toBe(1);
      expect(follower.lastCursor).toBe(got[4].cursor);
    } finally {
      await follower.stop();
    }
  });
});
