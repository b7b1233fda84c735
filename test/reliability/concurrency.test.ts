/**
 * Concurrent writers: many clients writing the same rows at the same moment through the real
 * HTTP app (a 20-connection pool, so the transactions really overlap in PostgreSQL).
 */
import { factories, Factories } from '../factories';
import { findViolations } from '../invariants';
import { writeFigures, tally } from './support/figures';
import { HttpResult, succeeded } from './support/http';
import { startInProcess, InProcessServer } from './support/in-process';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';

const POST = `mutation($input: PostMessageInput!) { postMessage(input: $input) { id createdAt session { id } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id title version } }`;
const DELETE = `mutation($id: ID!) { deleteSession(id: $id) { id deletedAt } }`;
const RESTORE = `mutation($id: ID!) { restoreSession(id: $id) { id deletedAt } }`;
const ATTACH = `mutation($sessionId: ID!, $skillIds: [ID!]!) { attachSkills(sessionId: $sessionId, skillIds: $skillIds) { id skills { id } } }`;
const MESSAGES = `query($id: ID!, $first: Int, $after: String, $orderBy: MessageOrder) {
  session(id: $id) {
    messageCount updatedAt lastMessage { id }
    messages(first: $first, after: $after, orderBy: $orderBy) { totalCount edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } }
  }
}`;

let s: InProcessServer;
let f: Factories;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  s = await startInProcess({ poolSize: 20 });
  f = factories(s.dataSource);
});
afterAll(async () => {
  writeFigures('concurrency', figures);
  await s?.close();
});
afterEach(async () => {
  expect(await findViolations(s.dataSource)).toEqual({});
});

function outcomes(results: HttpResult[]): Record<string, number> {
  return tally(results.map((r) => (r.network ? `network:${r.network}` : r.codes.length ? r.codes.join('+') : r.status === 200 ? 'ok' : `HTTP ${r.status}`)));
}

/** All pages of a session's messages in one order, `pageSize` at a time. */
async function pagedIds(sessionId: string, as: User, orderBy: string, pageSize: number): Promise<{ id: string; createdAt: string }[]> {
  const all: { id: string; createdAt: string }[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard += 1) {
    const r = await s.gql(MESSAGES, { id: sessionId, first: pageSize, after, orderBy }, as);
    expect(r.codes).toEqual([]);
    const page = r.body.data.session.messages;
    all.push(...page.edges.map((e: any) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return all;
}

async function expectConsistentOrder(sessionId: string, as: User, expectedIds: string[]): Promise<void> {
  const asc = await pagedIds(sessionId, as, 'CREATED_AT_ASC', 100);
  const ascPaged = await pagedIds(sessionId, as, 'CREATED_AT_ASC', 7);
  const desc = await pagedIds(sessionId, as, 'CREATED_AT_DESC', 9);
  expect(new Set(asc.map((m) => m.id))).toEqual(new Set(expectedIds));
  expect(asc).toHaveLength(expectedIds.length);
  expect(ascPaged.map((m) => m.id)).toEqual(asc.map((m) => m.id));
  expect(desc.map((m) => m.id)).toEqual(asc.map((m) => m.id).reverse());
  for (let i = 1; i < asc.length; i += 1) expect(Date.parse(asc[i].createdAt)).toBeGreaterThanOrEqual(Date.parse(asc[i - 1].createdAt));
  const head = await s.gql(MESSAGES, { id: sessionId, first: 1 }, as);
  const session = head.body.data.session;
  expect(session.messageCount).toBe(expectedIds.length);
  expect(session.messages.totalCount).toBe(expectedIds.length);
  expect(session.lastMessage?.id).toBe(asc[asc.length - 1]?.id);
  if (asc.length) expect(Date.parse(session.updatedAt)).toBeGreaterThanOrEqual(Date.parse(asc[asc.length - 1].createdAt));
}

test('50 concurrent postMessage calls on one session all persist, in one consistent order, with an exact messageCount', async () => {
  const owner = await f.user();
  const admin = await f.admin();
  const session = await f.session(owner);
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      s.gql(POST, { input: { sessionId: session.id, role: i % 2 ? 'ASSISTANT' : 'USER', content: `one-${i}` } }, i % 5 === 0 ? admin : owner),
    ),
  );
  figures.postMessageOneSession = { calls: 50, outcomes: outcomes(results) };
  expect(outcomes(results)).toEqual({ ok: 50 });
  const ids = results.map((r) => r.body.data.postMessage.id);
  expect(new Set(ids).size).toBe(50);
  const rows = await s.dataSource.query(`SELECT id, content FROM messages WHERE session_id = $1 AND deleted_at IS NULL`, [session.id]);
  expect(rows).toHaveLength(50);
  expect(new Set(rows.map((r: any) => r.content))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `one-${i}`)));
  await expectConsistentOrder(session.id, owner, ids);
});

test('50 concurrent postMessage calls across sessions all persist and every messageCount is exact', async () => {
  const owners = [await f.user(), await f.user()];
  const admin = await f.admin();
  const sessions: Session[] = [];
  for (let i = 0; i < 5; i += 1) sessions.push(await f.session(owners[i % 2]));
  const pre = await f.message(sessions[0]); // one message already there
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => {
      const session = sessions[i % 5];
      const as = i % 7 === 0 ? admin : owners[sessions.indexOf(session) % 2];
      return s.gql(POST, { input: { sessionId: session.id, role: 'USER', content: `across-${i}` } }, as);
    }),
  );
  figures.postMessageAcrossSessions = { calls: 50, sessions: 5, outcomes: outcomes(results) };
  expect(outcomes(results)).toEqual({ ok: 50 });
  for (let k = 0; k < 5; k += 1) {
    const ids = results.filter((_, i) => i % 5 === k).map((r) => r.body.data.postMessage.id);
    expect(results.filter((_, i) => i % 5 === k).every((r) => r.body.data.postMessage.session.id === sessions[k].id)).toBe(true);
    await expectConsistentOrder(sessions[k].id, owners[k % 2], k === 0 ? [pre.id, ...ids] : ids);
  }
});

test('20 concurrent updateSession calls with the same expectedVersion: exactly one wins, the rest get CONFLICT', async () => {
  const owner = await f.user();
  const session = await f.session(owner);
  const rounds = [];
  let version = 1;
  for (let round = 0; round < 3; round += 1) {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.gql(UPDATE, { id: session.id, input: { title: `r${round}-w${i}`, expectedVersion: version } }, owner)),
    );
    const tallyOf = outcomes(results);
    rounds.push(tallyOf);
    expect(tallyOf).toEqual({ ok: 1, CONFLICT: 19 });
    const winner = results.find(succeeded)!.body.data.updateSession;
    expect(winner.version).toBe(version + 1);
    const [row] = await s.dataSource.query(`SELECT title, version FROM sessions WHERE id = $1`, [session.id]);
    expect(row).toEqual({ title: winner.title, version: version + 1 });
    version += 1;
  }
  figures.updateSessionSameVersion = { callsPerRound: 20, rounds };
});

test('concurrent deleteSession/restoreSession of one session ends in one of the two valid states, with no stray messages', async () => {
  const owner = await f.user();
  const admin = await f.admin();
  const rounds: unknown[] = [];
  for (let round = 0; round < 6; round += 1) {
    const session = await f.session(owner);
    const live = [];
    for (let i = 0; i < 5; i += 1) live.push((await f.message(session)).id);
    const alone = await f.message(session, { deletedAt: new Date(Date.now() - 60_000) }); // deleted on its own earlier
    // Start deleted on odd rounds, so both directions race.
    if (round % 2 === 1) expect(succeeded(await s.gql(DELETE, { id: session.id }, owner))).toBe(true);
    const ops = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'delete' : 'restore') as 'delete' | 'restore');
    const results = await Promise.all(ops.map((op, i) => s.gql(op === 'delete' ? DELETE : RESTORE, { id: session.id }, i % 3 ? owner : admin)));
    const deletes = results.filter((r, i) => ops[i] === 'delete' && succeeded(r)).length;
    const restores = results.filter((r, i) => ops[i] === 'restore' && succeeded(r)).length;
    const tallyOf = outcomes(results);
    rounds.push({ startDeleted: round % 2 === 1, outcomes: tallyOf, deletes, restores });
    // Only successes and CONFLICT (already deleted / not deleted).
    expect(Object.keys(tallyOf).filter((k) => k !== 'ok' && k !== 'CONFLICT')).toEqual([]);
    // Successful transitions alternate, so their counts differ by at most one.
    const startDeleted = round % 2 === 1;
    const net = startDeleted ? restores - deletes : deletes - restores;
    expect([0, 1]).toContain(net);
    const endDeleted = startDeleted ? net === 0 : net === 1;

    const [row] = await s.dataSource.query(`SELECT deleted_at FROM sessions WHERE id = $1`, [session.id]);
    const messages: { id: string; deleted_at: Date | null }[] = await s.dataSource.query(
      `SELECT id, deleted_at FROM messages WHERE session_id = $1`,
      [session.id],
    );
    expect(messages).toHaveLength(6);
    const byId = new Map(messages.map((m) => [m.id, m.deleted_at]));
    expect(byId.get(alone.id)?.getTime()).toBe(alone.deletedAt!.getTime());
    if (endDeleted) {
      expect(row.deleted_at).not.toBeNull();
      for (const id of live) expect(byId.get(id)?.getTime()).toBe(row.deleted_at.getTime());
    } else {
      expect(row.deleted_at).toBeNull();
      for (const id of live) expect(byId.get(id)).toBeNull();
      const view = await s.gql(MESSAGES, { id: session.id, first: 50 }, owner);
      expect(view.body.data.session.messageCount).toBe(5);
    }
  }
  figures.deleteRestoreRace = { callsPerRound: 20, rounds };
});

test('concurrent attachSkills of the same skills never fails with a duplicate key and leaves exactly one link each', async () => {
  const owner = await f.user();
  const session = await f.session(owner);
  const skill = await f.skill();
  const same = await Promise.all(Array.from({ length: 20 }, () => s.gql(ATTACH, { sessionId: session.id, skillIds: [skill.id] }, owner)));
  expect(outcomes(same)).toEqual({ ok: 20 });
  const [{ count }] = await s.dataSource.query(`SELECT count(*)::int AS count FROM session_skills WHERE session_id = $1`, [session.id]);
  expect(count).toBe(1);

  // Overlapping sets in different orders on several sessions at once (lock ordering, no deadlock).
  const skills = [skill, await f.skill(), await f.skill(), await f.skill()];
  const sessions = [session, await f.session(owner), await f.session(owner)];
  const calls = Array.from({ length: 30 }, (_, i) => {
    const ids = skills.map((k) => k.id);
    const rotated = [...ids.slice(i % 4), ...ids.slice(0, i % 4)];
    return s.gql(ATTACH, { sessionId: sessions[i % 3].id, skillIds: i % 2 ? rotated.reverse() : rotated.slice(0, 2 + (i % 3)) }, owner);
  });
  const mixed = await Promise.all(calls);
  figures.attachSkills = { sameSkillCalls: 20, sameSkillOutcomes: outcomes(same), overlappingCalls: 30, overlappingOutcomes: outcomes(mixed) };
  expect(outcomes(mixed)).toEqual({ ok: 30 });
  for (const sess of sessions) {
    const rows = await s.dataSource.query(`SELECT skill_id FROM session_skills WHERE session_id = $1`, [sess.id]);
    expect(rows).toHaveLength(4);
  }
});
