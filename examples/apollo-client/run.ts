/**
 * Apollo Client 4 against the hub, with the cache configuration a team would copy:
 *   HUB_TOKEN=<token> [HUB_URL=http://127.0.0.1:4000/graphql] node dist/run.js
 * It loads the Dashboard, pages with `fetchMore`, posts a message, and shows the cached session
 * updated from the mutation's answer, without a refetch.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { DASHBOARD, POST_MESSAGE, SESSION_DETAIL } from './documents';

/**
 * The cache configuration Apollo's documentation shows for Relay-style connections, and nothing
 * else: every object type the hub returns has an `id` (NodeSync and Audio included), so the
 * cache normalizes them all and merges what different views select of the same object without
 * hand-written keys or merge functions. `relayStylePagination` merges the pages of a list across
 * `fetchMore`, keyed by the arguments that change the list.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    possibleTypes: { Node: ['User', 'Session', 'Message', 'Skill'] },
    typePolicies: {
      Query: { fields: { sessions: relayStylePagination(['filter', 'orderBy']) } },
      User: { fields: { sessions: relayStylePagination(['filter']) } },
      Skill: { fields: { sessions: relayStylePagination() } },
      Session: { fields: { messages: relayStylePagination(['orderBy']) } },
    },
  });
}

export interface ExampleResult {
  lines: string[];
  /** HTTP requests the client made, by operation name. */
  requests: string[];
  firstPage: number;
  afterFetchMore: number;
  /** Rows of the watched Dashboard after the detail view wrote other fields of its objects. */
  afterDetail: number;
  messageCountBefore: number;
  messageCountAfter: number;
  lastMessageAfter: string | null;
}

export async function runApolloExample(url: string, token: string, pageSize = 2): Promise<ExampleResult> {
  const requests: string[] = [];
  const countingFetch: typeof fetch = async (input, init) => {
    requests.push(JSON.parse(String(init?.body ?? '{}')).operationName ?? 'unknown');
    return fetch(input, init);
  };
  const client = new ApolloClient({
    link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` }, fetch: countingFetch }),
    cache: createCache(),
  });
  const lines: string[] = [];

  // The Dashboard as a view would hold it: a watched query, kept up to date by the cache.
  const watch = client.watchQuery({ query: DASHBOARD, variables: { first: pageSize } });
  const subscription = watch.subscribe(() => undefined);
  const first = await client.query({ query: DASHBOARD, variables: { first: pageSize } });
  const firstEdges = first.data!.sessions.edges;
  lines.push(`Dashboard: ${first.data!.sessions.totalCount} sessions, first page ${firstEdges.length}`);

  await watch.fetchMore({ variables: { after: first.data!.sessions.pageInfo.endCursor } });
  const merged = client.readQuery({ query: DASHBOARD, variables: { first: pageSize } })!;
  lines.push(`after fetchMore: ${merged.sessions.edges.length} sessions in the cached list`);

  const target = merged.sessions.edges[merged.sessions.edges.length - 1].node;
  // A detail view writes other fields of the same objects (the sync rows, the messages' page):
  // the cache merges them into what the Dashboard holds.
  await client.query({ query: SESSION_DETAIL, variables: { id: target.id } });
  // The Dashboard is still complete in the cache: no rows lost, nothing for the watch to refetch.
  const afterDetail = client.readQuery({ query: DASHBOARD, variables: { first: pageSize } })?.sessions.edges.length ?? 0;
  lines.push(`after the detail view: ${afterDetail} sessions in the cached list`);
  await client.mutate({ mutation: POST_MESSAGE, variables: { sessionId: target.id, content: 'Posted from Apollo Client' } });
  const updated = client.readQuery({ query: DASHBOARD, variables: { first: pageSize } })!;
  const session = updated.sessions.edges.find((e) => e.node.id === target.id)!.node;
  lines.push(`posted: "${session.title}" now has ${session.messageCount} messages, last "${session.lastMessage?.content}"`);
  subscription.unsubscribe();
  client.stop();
  return {
    lines,
    requests,
    firstPage: firstEdges.length,
    afterFetchMore: merged.sessions.edges.length,
    afterDetail,
    messageCountBefore: target.messageCount,
    messageCountAfter: session.messageCount,
    lastMessageAfter: session.lastMessage?.content ?? null,
  };
}

if (require.main === module) {
  const token = process.env.HUB_TOKEN;
  if (!token) throw new Error('Set HUB_TOKEN to a bearer token (hub serve prints one; or `hub token --email …`)');
  runApolloExample(process.env.HUB_URL ?? 'http://127.0.0.1:4000/graphql', token).then(
    (result) => console.log(result.lines.join('\n')),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
