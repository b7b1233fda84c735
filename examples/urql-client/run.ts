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
          lastMessage { id role content createdAt audio { id url contentType } }
          messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content } }
          nodeSync { id nodeId status }
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
      session { id messageCount updatedAt lastMessage { id role content createdAt audio { id url contentType } } }
    }
  }
`;

/** A session's detail view: other fields of objects the Dashboard also holds. */
const SESSION_DETAIL = gql`
  query SessionDetail($id: ID!) {
    session(id: $id) {
      id
      nodeSync { id nodeId updatedAt }
      lastMessage { id audio { id key byteSize } }
      messages(first: 3, orderBy: CREATED_AT_DESC) { totalCount pageInfo { hasPreviousPage } }
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
 * Graphcache with `relayPagination` for the connections, and no `keys`: every object type the hub
 * returns has an `id` (NodeSync and Audio included) or is a connection, edge or PageInfo, which
 * Graphcache embeds in its parent by itself. `relayPagination` merges the pages of a list
 * whatever `after`/`before` asked for.
 */
export function createCache() {
  return cacheExchange({
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
  /** Rows of the cached Dashboard after the detail view wrote other fields of its objects. */
  afterDetail: number;
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
  const detail = await client.query(SESSION_DETAIL, { id: target.id }).toPromise();
  if (detail.error) throw detail.error;
  const afterDetail = client.readQuery<DashboardData>(DASHBOARD, { first: pageSize })?.data?.sessions.edges.length ?? 0;
  lines.push(`after the detail view: ${afterDetail} sessions in the cached list`);
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
    afterDetail,
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
