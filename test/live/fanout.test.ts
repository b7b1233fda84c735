import fc from 'fast-check';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { BatchStats } from '../../src/live/hub';
import { TestServer, useTestServer } from '../harness';
import { LiveWs, liveWs, Received, sleep, subscribed } from './support/clients';

/**
 * Issue 14, items 2 and 3 on one process: which write announces which change (every path, the
 * set-based ones included), who receives it (the viewer's scope, the filter), and that the SQL of
 * an event batch grows with distinct viewers and documents, not with subscribers.
 */

const { t, f } = useTestServer();

const CHANGES = 'subscription ($filter: SessionFilter) { sessionChanged(filter: $filter) { kind sessionId inFilter session { id deletedAt } } }';

async function withSockets<T>(run: (open: (token: string) => LiveWs) => Promise<T>): Promise<T> {
  const sockets: LiveWs[] = [];
  try {
    return await run((token) => {
      const ws = liveWs(t.url, token);
      sockets.push(ws);
      return ws;
    });
  } finally {
    await Promise.all(sockets.map((ws) => ws.dispose()));
  }
}

async function withSocketsOn<T>(server: TestServer, run: (open: (token: string) => LiveWs) => Promise<T>): Promise<T> {
  const sockets: LiveWs[] = [];
  try {
    return await run((token) => {
      const ws = liveWs(server.url, token);
      sockets.push(ws);
      return ws;
    });
  } finally {
    await Promise.all(sockets.map((ws) => ws.dispose()));
  }
}

/** Waits for the subscriber's events to stop at `n` (a sentinel would be more exact where possible). */
async function changesOf(received: Received, n: number) {
  await received.waitFor(n);
  await sleep(100);
  return received.results.map((r) => {
    expect(r.errors).toBeUndefined();
    return r.data.sessionChanged;
  });
}

describe('which writes announce which change', () => {
  it('announces every mutation of a session with its kind, the set-based and cascading ones included', async () => {
    const [owner, admin] = await Promise.all([f.user(), f.admin()]);
    const skill = await f.skill();
    await withSockets(async (open) => {
      const ws = open(t.tokenFor(owner));
      const received = ws.subscribe(CHANGES, { filter: { deleted: 'ALL' } });
      await subscribed(t.server.live.hub, 1);
      const as = { as: owner };
      const created = await t.gql('mutation { createSession(input: { title: "live" }) { id version } }', {}, as);
      const id = created.data.createSession.id;
      const steps: [string, Record<string, unknown>, string][] = [
        ['mutation ($id: ID!) { updateSession(id: $id, input: { title: "renamed" }) { id } }', { id }, 'UPDATED'],
        ['mutation ($id: ID!, $s: [ID!]!) { attachSkills(sessionId: $id, skillIds: $s) { id } }', { id, s: [skill.id] }, 'UPDATED'],
        ['mutation ($id: ID!, $s: [ID!]!) { detachSkills(sessionId: $id, skillIds: $s) { id } }', { id, s: [skill.id] }, 'UPDATED'],
        ['mutation ($id: ID!) { reportNodeSync(input: { sessionId: $id, nodeId: "n1", status: SYNCING }) { id } }', { id }, 'UPDATED'],
        ['mutation ($id: ID!) { postMessage(input: { sessionId: $id, role: USER, content: "hi" }) { id } }', { id }, 'UPDATED'],
        ['mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id }, 'DELETED'],
        ['mutation ($id: ID!) { restoreSession(id: $id) { id } }', { id }, 'RESTORED'],
      ];
      for (const [query, variables] of steps) {
        const result = await t.gql(query, variables, as);
        expect(result.errors).toBeUndefined();
        await sleep(40); // one batch per write, so none is coalesced into the next
      }
      // A refused write (stale version) commits nothing and announces nothing.
      const stale = await t.gql('mutation ($id: ID!) { updateSession(id: $id, input: { title: "x", expectedVersion: 1 }) { id } }', { id }, as);
      expect(stale.errors?.[0].extensions?.code).toBe('CONFLICT');
      const purged = await t.gql('mutation ($id: ID!) { purgeSession(id: $id) }', { id }, { as: admin });
      expect(purged.data).toEqual({ purgeSession: true });
      const changes = await changesOf(received, 9);
      expect(changes.map((c) => c.kind)).toEqual(['CREATED', ...steps.map((s) => s[2]), 'PURGED']);
      expect(changes.every((c) => c.sessionId === id)).toBe(true);
      expect(changes.at(-1)!.session).toBeNull();
      expect(changes[6].session.deletedAt).not.toBeNull();
    });
  });

  it('announces a set-based write of 300 sessions in chunks below the 8,000-byte NOTIFY limit, each exactly once', async () => {
    const [owner, admin] = await Promise.all([f.user(), f.admin()]);
    // The previous test's subscribers leave asynchronously: wait for them, or a count of 1 could be theirs.
    for (const deadline = Date.now() + 10_000; t.server.live.hub.subscriberCount > 0 && Date.now() < deadline; ) await sleep(10);
    await withSockets(async (open) => {
      const before = t.server.live.hub.subscriberCount;
      const received = open(t.tokenFor(admin)).subscribe(CHANGES, { filter: { userId: owner.id } });
      await subscribed(t.server.live.hub, before + 1);
      const rows: { id: string }[] = await t.dataSource.query(
        `INSERT INTO sessions (user_id, title) SELECT $1, 'bulk ' || i FROM generate_series(1, 300) i RETURNING id`,
        [owner.id],
      );
      const changes = await changesOf(received, 300);
      expect(changes.map((c) => c.kind)).toEqual(rows.map(() => 'CREATED'));
      expect(new Set(changes.map((c) => c.sessionId))).toEqual(new Set(rows.map((r) => r.id)));
      // Deleting their owner cascades (foreign keys) to all 300: each is PURGED once.
      await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [owner.id] }, { as: admin });
      const all = await changesOf(received, 600);
      expect(all.slice(300).map((c) => c.kind)).toEqual(rows.map(() => 'PURGED'));
      expect(new Set(all.slice(300).map((c) => c.sessionId)).size).toBe(300);
    });
  });
});

describe('bulk inserts', () => {
  it('announces a statement of more than 200 messages per session; messageAdded subscribers replay them, in order, each once', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    await withSockets(async (open) => {
      const before = t.server.live.hub.subscriberCount;
      const received = open(t.tokenFor(owner)).subscribe(
        'subscription ($id: ID!) { messageAdded(sessionId: $id) { node { id } } }',
        { id: session.id },
      );
      await subscribed(t.server.live.hub, before + 1);
      await sleep(100);
      await f.message(session, { content: 'single' });
      await t.dataSource.query(
        `INSERT INTO messages (session_id, role, content, created_at)
         SELECT $1, 'USER', 'bulk ' || i, now() FROM generate_series(1, 250) i`,
        [session.id],
      );
      await f.message(session, { content: 'after' });
      await received.waitFor(252);
      await sleep(200);
      const stored: { id: string }[] = await t.dataSource.query('SELECT id FROM messages WHERE session_id = $1 ORDER BY created_at, id', [session.id]);
      expect(received.results.map((r) => r.data.messageAdded.node.id)).toEqual(stored.map((r) => r.id));
    });
  });
});

describe('who receives a change', () => {
  it('reaches the filters a change enters and those it leaves, inFilter telling which: deleted, isSyncing, skillId', async () => {
    const owner = await f.user();
    const [a, b] = await Promise.all([f.session(owner), f.session(owner)]);
    const skill = await f.skill();
    await f.link(a, skill);
    await withSockets(async (open) => {
      const ws = open(t.tokenFor(owner));
      const active = ws.subscribe(CHANGES);
      const deleted = ws.subscribe(CHANGES, { filter: { deleted: 'DELETED' } });
      const syncing = ws.subscribe(CHANGES, { filter: { isSyncing: true } });
      const withSkill = ws.subscribe(CHANGES, { filter: { skillId: skill.id } });
      await subscribed(t.server.live.hub, 4);
      await f.nodeSync(b, 'node-x', SyncStatus.PENDING); // b: UPDATED, now syncing
      await sleep(40);
      await f.message(a); // a: UPDATED
      await sleep(40);
      await t.gql('mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: b.id }, { as: owner }); // b: DELETED
      const sentinel = await f.session(owner, { title: 'sentinel' });
      await active.waitFor(3);
      await sleep(100);
      const kinds = (r: Received) =>
        r.results.map((x) => `${x.data.sessionChanged.kind}:${x.data.sessionChanged.sessionId}:${x.data.sessionChanged.inFilter ? 'in' : 'out'}`);
      // b leaves the live sessions and the syncing ones when deleted: they hear of it, to drop it.
      expect(kinds(active)).toEqual([`UPDATED:${b.id}:in`, `UPDATED:${a.id}:in`, `DELETED:${b.id}:out`, `CREATED:${sentinel.id}:in`]);
      expect(kinds(deleted)).toEqual([`DELETED:${b.id}:in`]);
      expect(kinds(syncing)).toEqual([`UPDATED:${b.id}:in`, `DELETED:${b.id}:out`]);
      expect(kinds(withSkill)).toEqual([`UPDATED:${a.id}:in`]);
    });
  });

  it('tells a filter the session leaves through a node row removed, a skill deleted, a restore, a finished sync, an owner deleted', async () => {
    const [owner, admin] = await Promise.all([f.user(), f.admin()]);
    const [a, b, c] = await Promise.all([f.session(owner), f.session(owner), f.session(owner)]);
    const skill = await f.skill();
    await f.link(b, skill);
    await f.nodeSync(a, 'node-gone', SyncStatus.SYNCED);
    await f.nodeSync(c, 'node-c', SyncStatus.SYNCING);
    await t.gql('mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: a.id }, { as: owner });
    await withSockets(async (open) => {
      const ws = open(t.tokenFor(admin));
      const byNode = ws.subscribe(CHANGES, { filter: { nodeId: 'node-gone', deleted: 'ALL' } });
      const bySkill = ws.subscribe(CHANGES, { filter: { skillId: skill.id } });
      const deleted = ws.subscribe(CHANGES, { filter: { deleted: 'DELETED' } });
      const syncing = ws.subscribe(CHANGES, { filter: { isSyncing: true, userId: owner.id } });
      const byOwner = ws.subscribe(CHANGES, { filter: { userId: owner.id } });
      await subscribed(t.server.live.hub, 5);
      // A node's row removed outside the services (an operator's cleanup).
      await t.dataSource.query(`DELETE FROM session_node_sync WHERE session_id = $1 AND node_id = 'node-gone'`, [a.id]);
      await t.gql('mutation ($id: ID!) { deleteSkill(id: $id) }', { id: skill.id }, { as: admin });
      await t.gql('mutation ($id: ID!) { restoreSession(id: $id) { id } }', { id: a.id }, { as: owner });
      await t.gql('mutation ($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { id } }', { input: { sessionId: c.id, nodeId: 'node-c', status: 'SYNCED' } }, { as: owner });
      await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [owner.id] }, { as: admin });
      const last = (r: Received, id: string) => r.results.map((x) => x.data.sessionChanged).filter((x) => x.sessionId === id).at(-1);
      const until = async (check: () => boolean) => {
        const deadline = Date.now() + 10_000;
        while (!check() && Date.now() < deadline) await sleep(20);
      };
      await until(() => [a, b, c].every((s) => last(byOwner, s.id)?.kind === 'PURGED'));
      // Each leaves its filter by its own change, unless the batch that read it also held the
      // owner's purge: then the change is coalesced into the PURGED, which carries its state
      // before (notifications.ts, `coalesce`), and that is what tells the filter.
      const leaves = (r: Received, id: string, kind: string) => {
        const event = last(r, id);
        expect(event).toMatchObject({ inFilter: false });
        expect([kind, 'PURGED']).toContain(event.kind);
      };
      leaves(byNode, a.id, 'UPDATED');
      leaves(bySkill, b.id, 'UPDATED');
      leaves(deleted, a.id, 'RESTORED');
      leaves(syncing, c.id, 'UPDATED');
      for (const s of [a, b, c]) expect(last(byOwner, s.id)).toMatchObject({ kind: 'PURGED', inFilter: false, session: null });
    });
  });

  it('never gives a member an event about another member’s session, ids included (random writes by random users)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ actor: fc.nat(2), op: fc.constantFrom('create', 'post', 'rename', 'delete', 'restore', 'purge', 'sync') }), {
          minLength: 3,
          maxLength: 8,
        }),
        async (ops) => {
          const members = await Promise.all([f.user(), f.user(), f.user()]);
          const admin = await f.admin();
          // Live stacks per member (the last one is the target), and every session each ever owned.
          const sessions = new Map<string, string[]>(members.map((m) => [m.id, []]));
          const owned = new Map<string, string[]>(members.map((m) => [m.id, []]));
          await withSockets(async (open) => {
            const before = t.server.live.hub.subscriberCount;
            const streams = members.map((m) => open(t.tokenFor(m)).subscribe(CHANGES, { filter: { deleted: 'ALL' } }));
            await subscribed(t.server.live.hub, before + 3);
            for (const { actor, op } of ops) {
              const member = members[actor];
              const own = sessions.get(member.id)!;
              const target = own.at(-1);
              if (op === 'create' || !target) {
                const id = (await f.session(member)).id;
                own.push(id);
                owned.get(member.id)!.push(id);
              }
              else if (op === 'post') await f.message({ id: target } as any);
              else if (op === 'rename') await t.gql('mutation ($id: ID!) { updateSession(id: $id, input: { title: "r" }) { id } }', { id: target }, { as: member });
              else if (op === 'delete') await t.gql('mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: target }, { as: member });
              else if (op === 'restore') await t.gql('mutation ($id: ID!) { restoreSession(id: $id) { id } }', { id: target }, { as: member });
              else if (op === 'sync') await f.nodeSync({ id: target } as any, `n-${Math.random()}`, SyncStatus.SYNCING);
              else if (op === 'purge') {
                await t.gql('mutation ($id: ID!) { purgeSession(id: $id) }', { id: target }, { as: admin });
                own.pop();
              }
            }
            // Each member's sentinel: their own new session, after every write above.
            const sentinels = await Promise.all(members.map((m) => f.session(m)));
            await Promise.all(
              streams.map(async (stream, i) => {
                const deadline = Date.now() + 10_000;
                while (!stream.results.some((r) => r.data?.sessionChanged.sessionId === sentinels[i].id)) {
                  if (Date.now() > deadline) throw new Error('no sentinel');
                  await sleep(10);
                }
              }),
            );
            const allIds = [...owned.values()].flat();
            members.forEach((member, i) => {
              const mine = new Set([...owned.get(member.id)!, sentinels[i].id]);
              const body = JSON.stringify(streams[i].results);
              for (const id of allIds) if (!mine.has(id)) expect(body).not.toContain(id);
              for (const r of streams[i].results) expect(mine.has(r.data.sessionChanged.sessionId)).toBe(true);
            });
          });
        },
      ),
      { numRuns: 10 },
    );
  }, 180_000);
});

describe('SQL per event batch', () => {
  // A database of its own: on the shared one, other test files' writes reach the admins here too.
  const { t: server, f: made } = useTestServer({}, { ownDatabase: true });

  const DOC_A = 'subscription { sessionChanged { kind session { id title owner { displayName } messageCount } } }';
  const DOC_B = 'subscription { sessionChanged { sessionId session { lastMessage { content } owner { email } } } }';

  /** The SQL statements of the batches that `write` produced (waits for them to settle). */
  async function statementsFor(write: () => Promise<unknown>, expectedBatches = 1): Promise<number> {
    const batches: BatchStats[] = [];
    let last = Date.now();
    const stop = server.server.live.hub.observeBatches((b) => {
      batches.push(b);
      last = Date.now();
    });
    try {
      // Settle first: batches of earlier writes (the fixtures) must not be counted.
      while (Date.now() - last < 300) await sleep(20);
      batches.length = 0;
      await write();
      const deadline = Date.now() + 20_000;
      while (batches.length < expectedBatches && Date.now() < deadline) await sleep(10);
      last = Date.now();
      while (Date.now() - last < 300) await sleep(20);
      return batches.reduce((sum, b) => sum + b.statements, 0);
    } finally {
      stop();
    }
  }

  it('is the same for 1 and 20 admins, and for 1 and 2 documents: one resolution per document, loaders shared', async () => {
    const owner = await made.user();
    const session = await made.session(owner);
    const admins = await Promise.all(Array.from({ length: 20 }, () => made.admin()));
    await withSocketsOn(server, async (open) => {
      const base = server.server.live.hub.subscriberCount;
      const one = open(server.tokenFor(admins[0])).subscribe(DOC_A);
      await subscribed(server.server.live.hub, base + 1);
      const single = await statementsFor(() => made.message(session));
      await one.waitFor(1);
      // sessionById, the owner, the message stats: one statement each.
      expect(single).toBe(3);
      for (const admin of admins.slice(1)) open(server.tokenFor(admin)).subscribe(DOC_A);
      for (const admin of admins) open(server.tokenFor(admin)).subscribe(DOC_B);
      await subscribed(server.server.live.hub, base + 40);
      expect(await statementsFor(() => made.message(session))).toBe(3);
    });
  });

  it('is the same for 6 members with events as for one admin: their reads go out together (db/viewer-keys.ts)', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, () => made.user()));
    const bystanders = await Promise.all(Array.from({ length: 4 }, () => made.user()));
    const sessions = await Promise.all(members.map((m) => made.session(m)));
    // One statement posts a message to each member's session: one event batch.
    const postAll = () =>
      server.dataSource.query(`INSERT INTO messages (session_id, role, content) SELECT unnest($1::uuid[]), 'USER', 'to all'`, [sessions.map((s) => s.id)]);
    await withSocketsOn(server, async (open) => {
      const base = server.server.live.hub.subscriberCount;
      for (const member of [...members, ...bystanders]) open(server.tokenFor(member)).subscribe(DOC_A);
      await subscribed(server.server.live.hub, base + 10);
      // sessionById, the owners, the message stats: one statement each for all six scopes (before: 3 × 6).
      expect(await statementsFor(postAll)).toBe(3);
      for (const member of [...members, ...bystanders]) for (let i = 0; i < 4; i += 1) open(server.tokenFor(member)).subscribe(DOC_A);
      await subscribed(server.server.live.hub, base + 50);
      expect(await statementsFor(postAll)).toBe(3);
    });
  });
});
