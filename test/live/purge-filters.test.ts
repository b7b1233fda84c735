import fc from 'fast-check';
import { SyncStatus } from '../../src/node-sync/node-sync.entity';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';
import { liveWs, LiveWs, Received, sleep, subscribed } from './support/clients';

/**
 * `sessionChanged` and purges: a purged row is gone, so PURGED is matched on the session just
 * before the purge. The promise, checked against the API itself: a subscriber gets PURGED for
 * exactly the sessions that `sessions(filter)` lists for the same viewer right before the purges
 * (owner, deleted, syncing, skill and node conditions alike), whichever path purges them
 * (purgeSession, deleteUsers' cascade, a raw DELETE cascading through the foreign keys).
 */

const { t, f } = useTestServer();

const CHANGES = 'subscription ($filter: SessionFilter) { sessionChanged(filter: $filter) { kind sessionId session { id } } }';
const LISTED = 'query ($filter: SessionFilter) { sessions(first: 100, filter: $filter) { nodes { id } } }';
const NODES = ['node-a', 'node-b'];
const STATUSES = [SyncStatus.PENDING, SyncStatus.SYNCING, SyncStatus.SYNCED, SyncStatus.FAILED];

const sessionSpec = fc.record({
  owner: fc.constantFrom('member', 'other' as const),
  skills: fc.subarray([0, 1]),
  nodes: fc.uniqueArray(fc.record({ node: fc.nat(1), status: fc.constantFrom(...STATUSES) }), { selector: (n) => n.node, maxLength: 2 }),
  deleted: fc.boolean(),
  purgeBy: fc.constantFrom('purgeSession', 'deleteUsers', 'raw SQL'),
});

const filterSpec = fc.record(
  {
    viewer: fc.constantFrom('admin', 'member'),
    userId: fc.constantFrom('member', 'other'),
    skill: fc.nat(2),
    nodeId: fc.nat(2),
    isSyncing: fc.boolean(),
    deleted: fc.constantFrom('ACTIVE', 'DELETED', 'ALL'),
  },
  { requiredKeys: ['viewer'] },
);

it('delivers PURGED to exactly the filters the session matched just before the purge (random filters, sessions and purge paths)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(sessionSpec, { minLength: 1, maxLength: 6 }), fc.array(filterSpec, { minLength: 1, maxLength: 5 }), async (specs, filterSpecs) => {
      const [member, other, admin] = await Promise.all([f.user(), f.user(), f.admin()]);
      const skills = await Promise.all([f.skill(), f.skill(), f.skill()]);
      const users: Record<string, User> = { member, other };
      const sessions: { session: Session; purgeBy: string }[] = [];
      for (const spec of specs) {
        const session = await f.session(users[spec.owner]);
        for (const i of spec.skills) await f.link(session, skills[i]);
        for (const { node, status } of spec.nodes) await f.nodeSync(session, NODES[node], status);
        if (spec.deleted) await t.gql('mutation ($id: ID!) { deleteSession(id: $id) { id } }', { id: session.id }, { as: users[spec.owner] });
        // Everything the other user owns goes with deleteUsers.
        sessions.push({ session, purgeBy: spec.owner === 'other' ? spec.purgeBy : spec.purgeBy === 'deleteUsers' ? 'raw SQL' : spec.purgeBy });
      }
      const ids = new Set(sessions.map((s) => s.session.id));
      const filters = filterSpecs.map((spec) => ({
        viewer: spec.viewer === 'admin' ? admin : member,
        filter: {
          ...(spec.userId !== undefined && { userId: users[spec.userId].id }),
          // Index 2: a skill no session has.
          ...(spec.skill !== undefined && { skillId: skills[spec.skill].id }),
          ...(spec.nodeId !== undefined && { nodeId: NODES[spec.nodeId] ?? 'node-none' }),
          ...(spec.isSyncing !== undefined && { isSyncing: spec.isSyncing }),
          ...(spec.deleted !== undefined && { deleted: spec.deleted }),
        },
      }));

      const sockets: LiveWs[] = [];
      try {
        const before = t.server.live.hub.subscriberCount;
        const open = (viewer: User, filter: Record<string, unknown>) => {
          const ws = liveWs(t.url, t.tokenFor(viewer));
          sockets.push(ws);
          return ws.subscribe(CHANGES, { filter });
        };
        const streams: Received[] = filters.map(({ viewer, filter }) => open(viewer, filter));
        // Sees every purge: the sentinels' tell when every earlier batch was delivered.
        const watcher = open(admin, { deleted: 'ALL' });
        await subscribed(t.server.live.hub, before + streams.length + 1);
        // The setup's own changes (deleteSession) committed before the subscriptions started, but
        // their notifications may still be on the way (a change may reach a subscriber that
        // subscribed right after it: README, the rule of sessionChanged). A sentinel purged now
        // comes after them all: what follows its delivery is what the purges send.
        const purgedNow = async (session: Session) => {
          await t.dataSource.query('DELETE FROM sessions WHERE id = $1', [session.id]);
          const deadline = Date.now() + 15_000;
          while (!watcher.results.some((r) => r.data?.sessionChanged.kind === 'PURGED' && r.data.sessionChanged.sessionId === session.id)) {
            if (Date.now() > deadline) throw new Error('a sentinel purge never arrived');
            await sleep(10);
          }
          await sleep(100); // other sockets' frames of that batch
        };
        await purgedNow(await f.session(member));
        const from = streams.map((stream) => stream.results.length);
        // What each subscriber could list right before the purges: the oracle.
        const expected = await Promise.all(
          filters.map(async ({ viewer, filter }) => {
            const listed = await t.gql(LISTED, { filter }, { as: viewer });
            expect(listed.errors).toBeUndefined();
            return listed.data.sessions.nodes.map((n: { id: string }) => n.id).filter((id: string) => ids.has(id)).sort();
          }),
        );

        for (const { session, purgeBy } of sessions) {
          if (purgeBy === 'purgeSession') {
            const purged = await t.gql('mutation ($id: ID!) { purgeSession(id: $id) }', { id: session.id }, { as: admin });
            expect(purged.data).toEqual({ purgeSession: true });
          } else if (purgeBy === 'raw SQL') {
            await t.dataSource.query('DELETE FROM sessions WHERE id = $1', [session.id]);
          }
        }
        if (sessions.some((s) => s.purgeBy === 'deleteUsers')) {
          const deleted = await t.gql('mutation ($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedCount } }', { ids: [other.id] }, { as: admin });
          expect(deleted.errors).toBeUndefined();
        }
        // Sees every purge: once the watcher has this sentinel's, every earlier batch was delivered.
        await purgedNow(await f.session(member));

        streams.forEach((stream, i) => {
          // (Other test files write to the same database: their sessions reach admins too.)
          const ours = stream.results
            .slice(from[i])
            .map((r) => {
              expect(r.errors).toBeUndefined();
              return r.data.sessionChanged as { kind: string; sessionId: string };
            })
            .filter((c) => ids.has(c.sessionId));
          expect(ours.every((c) => c.kind === 'PURGED')).toBe(true);
          const got = ours.map((c) => c.sessionId);
          expect({ filter: filters[i].filter, viewer: filters[i].viewer.role, got: [...got].sort() }).toEqual({
            filter: filters[i].filter,
            viewer: filters[i].viewer.role,
            got: expected[i],
          });
          expect(new Set(got).size).toBe(got.length);
        });
      } finally {
        await Promise.all(sockets.map((ws) => ws.dispose()));
      }
    }),
    { numRuns: 25 },
  );
}, 300_000);
