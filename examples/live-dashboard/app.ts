// The live operators' dashboard: the newest sessions, kept current by `sessionChanged`.
// Plain TypeScript over the generated typed documents; the development server serves it
// compiled (GET /live-dashboard/), with graphql-ws's browser build from node_modules. hub.ts
// says which hub it talks to and how documents are sent (by trusted-document id, or as text).
import {
  DashboardChangesDocument,
  DashboardChangesSubscription,
  DashboardSessionFragment,
  DashboardSessionsDocument,
  DashboardSessionsQuery,
  DashboardSessionsQueryVariables,
} from './gql/graphql.js';
import { query, subscribe } from './hub.js';

const NEWEST = 25;

const rows = new Map<string, DashboardSessionFragment>();
const tbody = document.getElementById('sessions')!;
const status = document.getElementById('status')!;

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function syncState(session: DashboardSessionFragment): [string, string] {
  if (session.isSyncing) return ['syncing', 'syncing'];
  if (session.nodeSync.some((n) => n.status === 'FAILED')) return ['failed', 'failed'];
  if (session.nodeSync.length) return ['synced', 'synced'];
  return ['—', ''];
}

function render(changedId?: string): void {
  const newest = [...rows.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)).slice(0, NEWEST);
  tbody.replaceChildren(
    ...newest.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      if (s.id === changedId) tr.className = 'flash';
      const [sync, syncClass] = syncState(s);
      const count = cell(String(s.messageCount), 'count');
      count.dataset.field = 'messageCount';
      const last = cell(s.lastMessage?.content ?? '');
      last.dataset.field = 'lastMessage';
      const syncCell = cell(sync, syncClass);
      syncCell.dataset.field = 'sync';
      tr.append(cell(s.title), cell(s.owner.displayName), cell(s.skills.map((k) => k.name).join(', ')), count, last, syncCell);
      return tr;
    }),
  );
}

function apply(change: DashboardChangesSubscription['sessionChanged']): void {
  // The server says whether `sessions` lists it now: nothing to decide here.
  if (change.inFilter && change.session) rows.set(change.sessionId, change.session);
  else rows.delete(change.sessionId);
  render(change.sessionId);
}

let client: ReturnType<typeof subscribe> | undefined;
let held: DashboardChangesSubscription['sessionChanged'][] | undefined;

/** Subscribe first, then load: changes that race the first page are held and applied on top of it. */
async function start(): Promise<void> {
  client?.dispose();
  const waiting: DashboardChangesSubscription['sessionChanged'][] = [];
  held = waiting;
  client = subscribe(DashboardChangesDocument, {
    next: ({ data, errors }) => {
      if (data && held) held.push(data.sessionChanged);
      else if (data) apply(data.sessionChanged);
      // The server lost its change feed: reload and subscribe again (README, Live updates).
      if (errors?.some((e) => e.extensions?.reason === 'LIVE_RESYNC')) void start();
    },
    error: () => {
      status.textContent = 'Disconnected; retrying…';
      status.dataset.state = 'down';
      setTimeout(() => void start(), 1000);
    },
  });
  const data: DashboardSessionsQuery = await query<DashboardSessionsQuery, DashboardSessionsQueryVariables>(DashboardSessionsDocument, { first: NEWEST });
  rows.clear();
  for (const session of data.sessions.nodes) rows.set(session.id, session);
  if (held === waiting) held = undefined;
  for (const change of waiting) apply(change);
  render();
  status.textContent = 'Live';
  status.dataset.state = 'live';
}

start().catch((error: Error) => {
  status.textContent = `Could not load: ${error.message}`;
});
