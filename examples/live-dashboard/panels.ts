// The dashboard's panels beside the sessions table (app.ts): a search over message contents
// (results with their highlights; a click opens the session's messages) and two charts kept live
// by a subscription: messages per minute over the last hour, and sync state per node. Any
// `sessionChanged` event (a message posted, a node report) refetches the charts' one query, at
// most one fetch in flight and one queued, at most one a second: a busy hub costs the page one
// query a second, not one per message.
import {
  DashboardChartsDocument,
  DashboardChartsQuery,
  DashboardChartsQueryVariables,
  DashboardPanelChangesDocument,
  DashboardSearchDocument,
  DashboardSearchQuery,
  DashboardSearchQueryVariables,
  DashboardSessionMessagesDocument,
  DashboardSessionMessagesQuery,
  DashboardSessionMessagesQueryVariables,
  DashboardSessionMessageChangesDocument,
  DashboardSessionMessageChangesSubscription,
  SyncStatus,
} from './gql/graphql.js';
import { query, subscribe } from './hub.js';
import { renderColumns, renderStacked } from './svg-chart.js';

const STATUSES: SyncStatus[] = ['PENDING', 'SYNCING', 'SYNCED', 'FAILED'];
const MINUTE = 60_000;
const MIN_INTERVAL = 1000;

const byId = (id: string) => document.getElementById(id)!;
const hhmm = (iso: string) => iso.slice(11, 16);

// ---- Charts -------------------------------------------------------------------------------

async function drawCharts(): Promise<void> {
  // The last hour in whole minutes, the current minute included (buckets are UTC minutes).
  const to = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE;
  const variables = { from: new Date(to - 60 * MINUTE).toISOString(), to: new Date(to).toISOString() };
  const data = await query<DashboardChartsQuery, DashboardChartsQueryVariables>(DashboardChartsDocument, variables);
  renderColumns(byId('activity-chart'), {
    title: 'Messages per minute, last hour (UTC)',
    unit: 'messages',
    bars: data.activity.map((b) => ({ label: hhmm(b.start), value: b.messagesPosted })),
  });
  renderStacked(byId('sync-chart'), {
    title: 'Sync state per node (sessions)',
    names: STATUSES,
    rows: data.nodeSyncSummary.map((node) => ({
      label: node.nodeId,
      segments: STATUSES.map((status) => ({ name: status, value: node.counts.find((c) => c.status === status)?.count ?? 0 })),
    })),
  });
}

let inFlight: Promise<void> | undefined;
let queued = false;

/** Redraws the charts; a call during a fetch (or within a second of one) queues one more, later calls join it. */
function refreshCharts(): void {
  if (inFlight) {
    queued = true;
    return;
  }
  // This fetch shows every change before it: nothing is queued any more.
  queued = false;
  inFlight = drawCharts()
    .catch((error: Error) => void (byId('charts-status').textContent = `Charts: ${error.message}`))
    .finally(() => {
      if (!queued) {
        inFlight = undefined;
        return;
      }
      // Still "in flight" for the pause, so calls meanwhile only queue.
      setTimeout(() => {
        inFlight = undefined;
        refreshCharts();
      }, MIN_INTERVAL);
    });
}

function followChanges(): void {
  // Whatever changed, and after a LIVE_RESYNC error too: the charts are one query.
  const client = subscribe(DashboardPanelChangesDocument, {
    next: () => refreshCharts(),
    error: () => {
      client.dispose();
      setTimeout(followChanges, 1000);
    },
  });
}

// ---- Search -------------------------------------------------------------------------------

async function search(text: string): Promise<void> {
  const results = byId('search-results');
  const summary = byId('search-summary');
  if (!text.trim()) {
    results.replaceChildren();
    summary.textContent = '';
    return;
  }
  const data = await query<DashboardSearchQuery, DashboardSearchQueryVariables>(DashboardSearchDocument, { query: text });
  const { edges, totalCount } = data.searchMessages;
  summary.textContent = `${totalCount} matching message${totalCount === 1 ? '' : 's'}${totalCount > edges.length ? `, best ${edges.length} shown` : ''}`;
  results.replaceChildren(
    ...edges.map((edge) => {
      const item = document.createElement('li');
      const open = document.createElement('button');
      open.type = 'button';
      open.dataset.sessionId = edge.node.session.id;
      const title = document.createElement('strong');
      title.textContent = edge.node.session.title;
      const snippet = document.createElement('span');
      snippet.className = 'highlight';
      // The server escapes the content and marks the matches: <mark> is its only markup.
      snippet.innerHTML = edge.highlight;
      open.append(title, ' ', snippet);
      open.addEventListener('click', () => void openSession(edge.node.session.id));
      item.append(open);
      return item;
    }),
  );
}

// ---- The open session's messages, live -------------------------------------------------------

type MessageChange = DashboardSessionMessageChangesSubscription['messageChanged'];

/** One shown message: its characters as offsets count them (code points), so deltas land exactly. */
interface Shown {
  item: HTMLLIElement;
  role: string;
  characters: string[];
  status: string;
}

let stopFollowing: (() => void) | undefined;

function show(entry: Shown): void {
  entry.item.textContent = `${entry.role.toLowerCase()}: ${entry.characters.join('')}`;
  entry.item.dataset.status = entry.status;
  entry.item.classList.toggle('streaming', entry.status === 'STREAMING');
}

/**
 * Opens a session's messages and keeps them current: subscribes first, then loads, and applies the
 * changes that raced the load on top of it. A streamed reply grows by each UPDATED's `delta` at its
 * `offset`; a delta overlapping what is shown (the load already had it) adds only what is new.
 */
async function openSession(id: string): Promise<void> {
  stopFollowing?.();
  const panel = byId('session-messages');
  const list = document.createElement('ol');
  const shown = new Map<string, Shown>();
  const add = (message: { id: string; role: string; content: string; status: string }) => {
    if (shown.has(message.id)) return;
    const entry = { item: document.createElement('li'), role: message.role, characters: [...message.content], status: message.status };
    entry.item.dataset.messageId = message.id;
    shown.set(message.id, entry);
    list.append(entry.item);
    show(entry);
  };
  const apply = (change: MessageChange) => {
    const entry = shown.get(change.messageId);
    if (change.kind === 'DELETED') {
      entry?.item.remove();
      shown.delete(change.messageId);
    } else if (!entry) {
      if (change.message) add(change.message);
    } else if (change.kind === 'UPDATED') {
      const delta = [...(change.delta ?? '')];
      const offset = change.offset ?? entry.characters.length;
      if (offset <= entry.characters.length && offset + delta.length > entry.characters.length) {
        entry.characters = entry.characters.slice(0, offset).concat(delta);
      } else if (offset > entry.characters.length && change.message) {
        entry.characters = [...change.message.content];
      }
      if (change.message) entry.status = change.message.status;
      show(entry);
    }
  };
  let waiting: MessageChange[] | undefined = [];
  const client = subscribe(
    DashboardSessionMessageChangesDocument,
    {
      next: (result) => {
        const change = result.data?.messageChanged;
        if (change && waiting) waiting.push(change);
        else if (change) apply(change);
      },
      error: () => client.dispose(),
    },
    { sessionId: id },
  );
  stopFollowing = () => client.dispose();
  const data = await query<DashboardSessionMessagesQuery, DashboardSessionMessagesQueryVariables>(DashboardSessionMessagesDocument, { id });
  const heading = document.createElement('h2');
  heading.textContent = data.session ? data.session.title : 'Session not found';
  for (const message of data.session?.messages.nodes ?? []) add(message);
  for (const change of waiting) apply(change);
  waiting = undefined;
  panel.dataset.sessionId = id;
  panel.replaceChildren(heading, list);
  panel.hidden = false;
}

byId('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = (byId('search-input') as HTMLInputElement).value;
  search(text).catch((error: Error) => void (byId('search-summary').textContent = `Search: ${error.message}`));
});

followChanges();
refreshCharts();
// The hour slides even when nothing happens.
setInterval(refreshCharts, MINUTE);
