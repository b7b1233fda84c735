/**
 * Runs the typed Dashboard query against a live server and prints a summary:
 *   HUB_TOKEN=<token> npx tsx … or, compiled: node dist/run.js
 * HUB_URL defaults to http://127.0.0.1:4000/graphql.
 */
import { print } from 'graphql';
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { DashboardDocument } from './generated';

type Dashboard = ResultOf<typeof DashboardDocument>;

export async function fetchDashboard(url: string, token: string, variables: VariablesOf<typeof DashboardDocument>): Promise<Dashboard> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(DashboardDocument), variables }),
  });
  const body = (await response.json()) as { data?: Dashboard; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || !body.data) {
    throw new Error(body.errors?.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ') ?? `HTTP ${response.status}`);
  }
  return body.data;
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
