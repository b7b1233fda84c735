/**
 * Runs the typed Dashboard query against a live server and prints a summary:
 *   HUB_TOKEN=<token> npx tsx … or, compiled: node dist/run.js
 * HUB_URL defaults to http://127.0.0.1:4000/graphql.
 *
 * The document goes as its trusted-document id (`documentId`, from codegen's persisted-documents
 * manifest), which a server with HUB_TRUSTED_DOCUMENTS=require demands. A server that does not
 * serve trusted documents (off) or does not know the id answers with a `reason`, and the client
 * sends the text instead, once.
 */
import { print } from 'graphql';
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { DashboardDocument } from './gql/graphql';

type Dashboard = ResultOf<typeof DashboardDocument>;
type Answer = { data?: Dashboard; errors?: { message: string; extensions?: { code?: string; reason?: string } }[] };

/** The id codegen embedded in the document (`persistedDocuments`): "sha256:<hex>" of its text. */
const DOCUMENT_ID = (DashboardDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
/** Answers after which the text may be sent instead of the id. */
const NOT_TRUSTED_HERE = new Set(['TRUSTED_DOCUMENTS_OFF', 'UNKNOWN_DOCUMENT_ID']);

export async function fetchDashboard(
  url: string,
  token: string,
  variables: VariablesOf<typeof DashboardDocument>,
  /** Sees each request body sent (tests count them). */
  onRequest?: (body: string) => void,
): Promise<Dashboard> {
  const send = async (payload: object): Promise<Answer> => {
    const body = JSON.stringify(payload);
    onRequest?.(body);
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const answer = (await response.json()) as Answer;
    if (!answer.errors?.length && !answer.data) throw new Error(`HTTP ${response.status}`);
    return answer;
  };
  let answer = await send({ documentId: DOCUMENT_ID, variables });
  if (answer.errors?.some((e) => NOT_TRUSTED_HERE.has(e.extensions?.reason ?? ''))) {
    answer = await send({ query: print(DashboardDocument), variables });
  }
  if (answer.errors?.length || !answer.data) {
    throw new Error(answer.errors?.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ') ?? 'no data');
  }
  return answer.data;
}

export function summarise(data: Dashboard): string[] {
  const { sessions } = data;
  return [
    `${sessions.totalCount} sessions; showing ${sessions.edges.length}${sessions.pageInfo.hasNextPage ? ' (more after ' + sessions.pageInfo.endCursor + ')' : ''}`,
    ...sessions.edges.map(({ node }) => {
      const last = node.lastMessage ? `${node.lastMessage.role} at ${node.lastMessage.createdAt}` : 'no messages';
      const sync = node.isSyncing ? 'syncing' : `${node.nodeSync.length} node(s) in sync`;
      return `- ${node.title} (${node.owner.displayName}): ${node.messageCount} messages, last ${last}; skills ${node.skills.map((s) => s.name).join(', ') || 'none'}; ${sync}`;
    }),
  ];
}

async function main(): Promise<void> {
  const token = process.env.HUB_TOKEN;
  if (!token) throw new Error('Set HUB_TOKEN to a bearer token (hub serve prints one; or `hub token --email …`)');
  const data = await fetchDashboard(process.env.HUB_URL ?? 'http://127.0.0.1:4000/graphql', token, { first: Number(process.env.FIRST ?? 10) });
  console.log(summarise(data).join('\n'));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
