/**
 * urql 6 with Graphcache against the hub, with the cache configuration a team would copy:
 *   HUB_TOKEN=<token> [HUB_URL=http://127.0.0.1:4000/graphql] node dist/run.js
 * urql sends short queries by GET (no content-type; the Authorization header is what lets them
 * past CSRF prevention). It loads the Dashboard, pages with `after`, posts a message, and reads
 * the updated session from the cache without a refetch.
 */
import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';

const DASHBOARD = gql`
  query Dashboard($first: Int!, $after: String) {
    sessions(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id
          title
          isSyncing
          updatedAt
          owner { id displayName }
          skills { id name }
          messageCount
          lastMessage { id role content createdAt }
          messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content } }
          nodeSync { nodeId status }
        }
      }
    }
  }
`;

const POST_MESSAGE = gql`
  mutation PostMessage($sessionId: ID!, $content: String!) {
    postMessage(input: { sessionId: $sessionId, role: USER, content: $content }) {
      id
      content
      session { id messageCount updatedAt lastMessage { id role content createdAt } }
    }
  }
`;

interface DashboardSession {
  id: string;
  title: string;
  messageCount: number;
  lastMessage: { content: string } | null;
}
interface DashboardData {
  sessions: { totalCount: number; pageInfo: { endCursor: string | null }; edges: { node: DashboardSession }[] };
}

/**
 * Types without an id are embedded in their parent (`keys` returning null): NodeSync (one
 * session's state on one node), Audio, the connection, edge and PageInfo types. Without these
 * keys Graphcache warns for each. Connections page with `relayPagination`, which merges the pages
 * of a list whatever `after`/`before` asked for.
 */
export function createCache() {
  const embedded = () => null;
  return cacheExchange({
    keys: {
      NodeSync: embedded,
      Audio: embedded,
      PageInfo: embedded,
      SessionConnection: embedded,
      SessionEdge: embedded,
      MessageConnection: embedded,
      MessageEdge: embedded,
      UserConnection: embedded,
      UserEdge: embedded,
      SkillConnection: embedded,
      SkillEdge: embedded,
    },
    resolvers: {
      Query: { sessions: relayPagination() },
      User: { sessions: relayPagination() },
      Skill: { sessions: relayPagination() },
      Session: { messages: relayPagination() },
    },
  });
}

export interface ExampleResult {
  lines: string[];
  /** HTTP requests the client made: method and operation name. */
  requests: string[];
  firstPage: number;
  afterFetchMore: number;
  messageCountBefore: number;
  messageCountAfter: number;
  lastMessageAfter: string | null;
}

export async function runUrqlExample(url: string, token: string, pageSize = 2): Promise<ExampleResult> {
  const requests: string[] = [];
  const countingFetch: typeof fetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    const name = method === 'GET' ? new URL(String(input)).searchParams.get('operationName') : JSON.parse(String(init?.body)).operationName;
    requests.push(`${method} ${name}`);
    return fetch(input, init);
  };
  const client = new Client({
    url,
    exchanges: [createCache(), fetchExchange],
    fetch: countingFetch,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
  });
  const lines: string[] = [];

  const first = await client.query<DashboardData>(DASHBOARD, { first: pageSize }).toPromise();
  if (first.error) throw first.error;
  const firstEdges = first.data!.sessions.edges;
  lines.push(`Dashboard: ${first.data!.sessions.totalCount} sessions, first page ${firstEdges.length}`);

  // urql's fetchMore: the same query with `after`; relayPagination merges it into the cached list.
  const more = await client.query<DashboardData>(DASHBOARD, { first: pageSize, after: first.data!.sessions.pageInfo.endCursor }).toPromise();
  if (more.error) throw more.error;
  const merged = client.readQuery<DashboardData>(DASHBOARD, { first: pageSize })!.data!;
  lines.push(`after the next page: ${merged.sessions.edges.length} sessions in the cached list`);

  const target = merged.sessions.edges[merged.sessions.edges.length - 1].node;
  const posted = await client.mutation(POST_MESSAGE, { sessionId: target.id, content: 'Posted from urql' }).toPromise();
  if (posted.error) throw posted.error;
  const updated = client.readQuery<DashboardData>(DASHBOARD, { first: pageSize })!.data!;
  const session = updated.sessions.edges.find((e) => e.node.id === target.id)!.node;
  lines.push(`posted: "${session.title}" now has ${session.messageCount} messages, last "${session.lastMessage?.content}"`);
  return {
    lines,
    requests,
    firstPage: firstEdges.length,
    afterFetchMore: merged.sessions.edges.length,
    messageCountBefore: target.messageCount,
    messageCountAfter: session.messageCount,
    lastMessageAfter: session.lastMessage?.content ?? null,
  };
}

if (require.main === module) {
  const token = process.env.HUB_TOKEN;
  if (!token) throw new Error('Set HUB_TOKEN to a bearer token (hub serve prints one; or `hub token --email …`)');
  runUrqlExample(process.env.HUB_URL ?? 'http://127.0.0.1:4000/graphql', token).then(
    (result) => console.log(result.lines.join('\n')),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
