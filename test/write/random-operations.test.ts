import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { codes, GqlResult, useTestServer } from '../harness';
import * as doc from './documents';
import { findViolations, liveMessageIds } from '../invariants';

const { t, f } = useTestServer({}, { invariants: true });

/** What the API promises, kept beside the database and compared with it after every operation. */
interface ModelSession {
  id: string;
  ownerId: string;
  version: number;
  deleted: boolean;
  live: Set<string>;
  /** The live messages when it was deleted: exactly what a restore must bring back. */
  takenByDelete?: Set<string>;
  skills: Set<string>;
  nodes: Map<string, string>;
}

interface Model {
  admin: User;
  members: User[];
  sessions: ModelSession[];
  skills: string[];
}

const NODES = ['node-a', 'node-b', 'node-c'];
const STATUSES = ['PENDING', 'SYNCING', 'SYNCED', 'FAILED'];

/** An operation picks its targets by index (modulo what exists when it runs), so any sequence is valid. */
type Op =
  | { kind: 'createSession'; owner: number; skills: number[] }
  | { kind: 'postMessage'; session: number; asAdmin: boolean }
  | { kind: 'deleteMessage'; session: number; message: number }
  | { kind: 'deleteSession' | 'restoreSession' | 'purgeSession'; session: number; asAdmin: boolean }
  | { kind: 'updateSession'; session: number; stale: boolean }
  | { kind: 'attachSkills' | 'detachSkills'; session: number; skills: number[] }
  | { kind: 'reportNodeSync'; session: number; node: number; status: number }
  | { kind: 'createSkill' }
  | { kind: 'deleteSkill'; skill: number }
  | { kind: 'deleteUser'; member: number }
  | { kind: 'intruder'; session: number };

const index = fc.nat({ max: 1000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('createSession' as const), owner: index, skills: fc.array(index, { maxLength: 3 }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('postMessage' as const), session: index, asAdmin: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteMessage' as const), session: index, message: index }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteSession' as const), session: index, asAdmin: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('restoreSession' as const), session: index, asAdmin: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('purgeSession' as const), session: index, asAdmin: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('updateSession' as const), session: index, stale: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('attachSkills' as const), session: index, skills: fc.array(index, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('detachSkills' as const), session: index, skills: fc.array(index, { minLength: 1, maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('reportNodeSync' as const), session: index, node: index, status: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('createSkill' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteSkill' as const), skill: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteUser' as const), member: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('intruder' as const), session: index }) },
);

function ok<T = any>(result: GqlResult<T>): T {
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

function pick<T>(list: T[], i: number): T | undefined {
  return list.length ? list[i % list.length] : undefined;
}

async function newMember(model: Model): Promise<User> {
  const email = `prop-${Math.random().toString(36).slice(2, 10)}@test.hub`;
  const { createUser } = ok(await t.gql(doc.CREATE_USER, { input: { email, displayName: 'Prop' } }, { as: model.admin }));
  return Object.assign(new User(), { id: createUser.id, role: 'MEMBER' });
}

/** Runs one operation through the API, updates the model, and checks the expected outcome. */
async function run(model: Model, op: Op): Promise<ModelSession | undefined> {
  const ownerOf = (s: ModelSession) => model.members.find((m) => m.id === s.ownerId)!;
  switch (op.kind) {
    case 'createSession': {
      const owner = pick(model.members, op.owner)!;
      const skills = [...new Set(op.skills.map((i) => pick(model.skills, i)).filter((s): s is string => !!s))];
      const { createSession } = ok(await t.gql(doc.CREATE_SESSION, { input: { title: 'Prop', skillIds: skills } }, { as: owner }));
      const session: ModelSession = { id: createSession.id, ownerId: owner.id, version: 1, deleted: false, live: new Set(), skills: new Set(skills), nodes: new Map() };
      model.sessions.push(session);
      return session;
    }
    case 'postMessage': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const result = await t.gql(doc.POST_MESSAGE, { input: { sessionId: s.id, role: 'USER', content: 'hi' } }, { as: op.asAdmin ? model.admin : ownerOf(s) });
      if (s.deleted) expect(codes(result)).toEqual(['NOT_FOUND']);
      else s.live.add(ok(result).postMessage.id);
      return s;
    }
    case 'deleteMessage': {
      const s = pick(model.sessions, op.session);
      const id = s && pick([...s.live], op.message);
      if (!s || !id) return s;
      const result = await t.gql(doc.DELETE_MESSAGE, { id }, { as: ownerOf(s) });
      if (s.deleted) expect(codes(result)).toEqual(['NOT_FOUND']);
      else {
        ok(result);
        s.live.delete(id);
      }
      return s;
    }
    case 'deleteSession': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const result = await t.gql(doc.DELETE_SESSION, { id: s.id }, { as: op.asAdmin ? model.admin : ownerOf(s) });
      if (s.deleted) expect(codes(result)).toEqual(['CONFLICT']);
      else {
        ok(result);
        [s.deleted, s.takenByDelete, s.live] = [true, s.live, new Set()];
      }
      return s;
    }
    case 'restoreSession': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const result = await t.gql(doc.RESTORE_SESSION, { id: s.id }, { as: op.asAdmin ? model.admin : ownerOf(s) });
      if (!s.deleted) expect(codes(result)).toEqual(['CONFLICT']);
      else {
        ok(result);
        [s.deleted, s.live, s.takenByDelete] = [false, s.takenByDelete!, undefined];
        // The restore returned exactly the set the delete took.
        expect(await liveMessageIds(t.dataSource, s.id)).toEqual([...s.live].sort());
      }
      return s;
    }
    case 'purgeSession': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const result = await t.gql(doc.PURGE_SESSION, { id: s.id }, { as: op.asAdmin ? model.admin : ownerOf(s) });
      if (!op.asAdmin) expect(codes(result)).toEqual(['FORBIDDEN']);
      else {
        ok(result);
        model.sessions.splice(model.sessions.indexOf(s), 1);
        expect(await t.dataSource.query('SELECT 1 FROM messages WHERE session_id = $1', [s.id])).toEqual([]);
        return;
      }
      return s;
    }
    case 'updateSession': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const expectedVersion = op.stale ? s.version + 1 : s.version;
      const result = await t.gql(doc.UPDATE_SESSION, { id: s.id, input: { title: `v${s.version + 1}`, expectedVersion } }, { as: ownerOf(s) });
      if (s.deleted) expect(codes(result)).toEqual(['NOT_FOUND']);
      else if (op.stale) expect(codes(result)).toEqual(['CONFLICT']);
      else expect(ok(result).updateSession.version).toBe(++s.version);
      return s;
    }
    case 'attachSkills':
    case 'detachSkills': {
      const s = pick(model.sessions, op.session);
      const skills = [...new Set(op.skills.map((i) => pick(model.skills, i)).filter((x): x is string => !!x))];
      if (!s || skills.length === 0) return s;
      const result = await t.gql(op.kind === 'attachSkills' ? doc.ATTACH_SKILLS : doc.DETACH_SKILLS, { sessionId: s.id, skillIds: skills }, { as: ownerOf(s) });
      if (s.deleted) expect(codes(result)).toEqual(['NOT_FOUND']);
      else {
        ok(result);
        for (const id of skills) op.kind === 'attachSkills' ? s.skills.add(id) : s.skills.delete(id);
      }
      return s;
    }
    case 'reportNodeSync': {
      const s = pick(model.sessions, op.session);
      if (!s) return;
      const [nodeId, status] = [NODES[op.node % NODES.length], STATUSES[op.status % STATUSES.length]];
      const { reportNodeSync } = ok(await t.gql(doc.REPORT_NODE_SYNC, { input: { sessionId: s.id, nodeId, status, error: 'e' } }, { as: ownerOf(s) }));
      s.nodes.set(nodeId, status);
      expect(reportNodeSync.isSyncing).toBe([...s.nodes.values()].some((v) => v === 'PENDING' || v === 'SYNCING'));
      return s;
    }
    case 'createSkill': {
      const name = `prop-${Math.random().toString(36).slice(2, 10)}`;
      model.skills.push(ok(await t.gql(doc.CREATE_SKILL, { input: { name } }, { as: model.admin })).createSkill.id);
      return;
    }
    case 'deleteSkill': {
      const id = pick(model.skills, op.skill);
      if (!id) return;
      ok(await t.gql(doc.DELETE_SKILL, { id }, { as: model.admin }));
      model.skills.splice(model.skills.indexOf(id), 1);
      for (const s of model.sessions) s.skills.delete(id);
      return;
    }
    case 'deleteUser': {
      const member = pick(model.members, op.member)!;
      expect(ok(await t.gql(doc.DELETE_USERS, { ids: [member.id] }, { as: model.admin })).deleteUsers.deletedCount).toBe(1);
      model.members.splice(model.members.indexOf(member), 1, await newMember(model));
      model.sessions = model.sessions.filter((s) => s.ownerId !== member.id);
      return;
    }
    case 'intruder': {
      const s = pick(model.sessions, op.session);
      const intruder = s && model.members.find((m) => m.id !== s.ownerId);
      if (!s || !intruder) return;
      expect(codes(await t.gql(doc.DELETE_SESSION, { id: s.id }, { as: intruder }))).toEqual(['NOT_FOUND']);
      expect(codes(await t.gql(doc.POST_MESSAGE, { input: { sessionId: s.id, role: 'USER', content: 'x' } }, { as: intruder }))).toEqual(['NOT_FOUND']);
      return s;
    }
  }
}

/** The database's view of one session equals the model's. */
async function expectSessionMatches(s: ModelSession): Promise<void> {
  const [row] = await t.dataSource.query('SELECT deleted_at, is_syncing, version FROM sessions WHERE id = $1', [s.id]);
  expect({ deleted: row.deleted_at !== null, version: row.version, isSyncing: row.is_syncing }).toEqual({
    deleted: s.deleted,
    version: s.version,
    isSyncing: [...s.nodes.values()].some((v) => v === 'PENDING' || v === 'SYNCING'),
  });
  expect(await liveMessageIds(t.dataSource, s.id)).toEqual([...s.live].sort());
  const links = await t.dataSource.query('SELECT skill_id FROM session_skills WHERE session_id = $1 ORDER BY skill_id', [s.id]);
  expect(links.map((l: { skill_id: string }) => l.skill_id)).toEqual([...s.skills].sort());
}

describe('a random sequence of mixed operations through the API', () => {
  it('keeps every invariant and every promise of the model', async () => {
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 100, maxLength: 100 }), async (ops) => {
        const model: Model = { admin: await f.admin(), members: [], sessions: [], skills: [] };
        for (let i = 0; i < 3; i++) model.members.push(await f.user());
        for (let i = 0; i < 4; i++) model.skills.push((await f.skill()).id);
        for (const [i, op] of ops.entries()) {
          const touched = await run(model, op);
          if (touched && model.sessions.includes(touched)) await expectSessionMatches(touched);
          if (i % 50 === 49) expect(await findViolations(t.dataSource)).toEqual({});
        }
        for (const s of model.sessions) await expectSessionMatches(s);
        expect(await findViolations(t.dataSource)).toEqual({});
        total += ops.length;
      }),
      { numRuns: 3, endOnFailure: true },
    );
    expect(total).toBeGreaterThanOrEqual(300);
  }, 180_000); // 300 operations over HTTP, each checked: minutes, not seconds, on the shared 2-core machine under load
});
