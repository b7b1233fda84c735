import { randomUUID } from 'node:crypto';
import { Session } from '../../src/sessions/session.entity';
import { codes, invalidFields, useTestServer } from '../harness';
import { ATTACH_SKILLS, CREATE_SKILL, DELETE_SKILL, DETACH_SKILLS } from './documents';

const { t, f } = useTestServer({}, { invariants: true });

async function linked(sessionId: string): Promise<string[]> {
  const rows = await t.dataSource.query('SELECT skill_id FROM session_skills WHERE session_id = $1 ORDER BY skill_id', [sessionId]);
  return rows.map((r: { skill_id: string }) => r.skill_id);
}

async function session(id: string): Promise<Session> {
  return t.dataSource.getRepository(Session).findOneOrFail({ where: { id }, withDeleted: true });
}

describe('createSkill', () => {
  it('adds a skill for an ADMIN and is CONFLICT for a live name, free again once deleted', async () => {
    const admin = await f.admin();
    const name = `skill-${randomUUID().slice(0, 8)}`;
    const created = await t.gql(CREATE_SKILL, { input: { name, description: 'Does things' } }, { as: admin });
    expect(created.data.createSkill).toMatchObject({ name, description: 'Does things' });
    expect(codes(await t.gql(CREATE_SKILL, { input: { name } }, { as: admin }))).toEqual(['CONFLICT']);
    await t.gql(DELETE_SKILL, { id: created.data.createSkill.id }, { as: admin });
    expect((await t.gql(CREATE_SKILL, { input: { name } }, { as: admin })).errors).toBeUndefined();
  });

  it('is FORBIDDEN for a MEMBER and BAD_USER_INPUT for an empty or long name', async () => {
    const member = await f.user();
    expect(codes(await t.gql(CREATE_SKILL, { input: { name: 'x' } }, { as: member }))).toEqual(['FORBIDDEN']);
    const admin = await f.admin();
    expect(invalidFields(await t.gql(CREATE_SKILL, { input: { name: '' } }, { as: admin }))).toEqual(['input.name']);
    expect(invalidFields(await t.gql(CREATE_SKILL, { input: { name: 'x'.repeat(65) } }, { as: admin }))).toEqual(['input.name']);
  });

  it('lets exactly one of two concurrent creators of a name win', async () => {
    const admin = await f.admin();
    const name = `race-${randomUUID().slice(0, 8)}`;
    const results = await Promise.all([1, 2].map(() => t.gql(CREATE_SKILL, { input: { name } }, { as: admin })));
    expect(results.map((r) => codes(r)[0] ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
  });
});

describe('deleteSkill', () => {
  it('removes the skill from the catalogue and all its links, moving those sessions', async () => {
    const admin = await f.admin();
    const skill = await f.skill();
    const [a, b] = [await f.session(await f.user()), await f.session(await f.user())];
    await f.link(a, skill);
    await f.link(b, skill);
    const before = (await session(a.id)).updatedAt.getTime();
    expect((await t.gql(DELETE_SKILL, { id: skill.id }, { as: admin })).data).toEqual({ deleteSkill: true });
    expect(await linked(a.id)).toEqual([]);
    expect(await linked(b.id)).toEqual([]);
    expect((await session(a.id)).updatedAt.getTime()).toBeGreaterThan(before);
    const [row] = await t.dataSource.query('SELECT deleted_at FROM skills WHERE id = $1', [skill.id]);
    expect(row.deleted_at).not.toBeNull();
  });

  it('never deadlocks when skills that share many sessions leave the catalogue at once', async () => {
    const admin = await f.admin();
    const owner = await f.user();
    const sessions = await Promise.all(Array.from({ length: 40 }, () => f.session(owner)));
    for (let round = 0; round < 3; round += 1) {
      const skills = await Promise.all([f.skill(), f.skill(), f.skill()]);
      // Set-up only: every session linked to every skill, so the cascades overlap completely.
      await t.dataSource.query(
        `INSERT INTO session_skills (session_id, skill_id) SELECT s, k FROM unnest($1::uuid[]) s, unnest($2::uuid[]) k`,
        [sessions.map((x) => x.id), skills.map((x) => x.id)],
      );
      const results = await Promise.all(skills.map((skill) => t.gql(DELETE_SKILL, { id: skill.id }, { as: admin })));
      expect(results.map((r) => r.errors ?? r.data)).toEqual(skills.map(() => ({ deleteSkill: true })));
    }
    expect(await linked(sessions[0].id)).toEqual([]);
  });

  it('is NOT_FOUND when already deleted or unknown, FORBIDDEN for a MEMBER', async () => {
    const admin = await f.admin();
    const skill = await f.skill();
    expect(codes(await t.gql(DELETE_SKILL, { id: skill.id }, { as: await f.user() }))).toEqual(['FORBIDDEN']);
    await t.gql(DELETE_SKILL, { id: skill.id }, { as: admin });
    expect(codes(await t.gql(DELETE_SKILL, { id: skill.id }, { as: admin }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(DELETE_SKILL, { id: randomUUID() }, { as: admin }))).toEqual(['NOT_FOUND']);
  });
});

describe('attachSkills and detachSkills', () => {
  it('attaches new skills once, ignoring duplicates and skills already attached, and bumps updatedAt but not version', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const [x, y] = [await f.skill(), await f.skill()];
    await f.link(s, x);
    const before = await session(s.id);
    const result = await t.gql(ATTACH_SKILLS, { sessionId: s.id, skillIds: [x.id, y.id, y.id] }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.attachSkills.version).toBe(1);
    expect(Date.parse(result.data.attachSkills.updatedAt)).toBeGreaterThan(before.updatedAt.getTime());
    expect(await linked(s.id)).toEqual([x.id, y.id].sort());
  });

  it('never fails with a duplicate key when the same skill is attached concurrently', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const skill = await f.skill();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.gql(ATTACH_SKILLS, { sessionId: s.id, skillIds: [skill.id] }, { as: member })),
    );
    expect(results.flatMap((r) => codes(r))).toEqual([]);
    expect(await linked(s.id)).toEqual([skill.id]);
  });

  it('is NOT_FOUND for a deleted skill or a deleted session, and attaches nothing then', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const [live, gone] = [await f.skill(), await f.skill()];
    await t.gql(DELETE_SKILL, { id: gone.id }, { as: await f.admin() });
    expect(codes(await t.gql(ATTACH_SKILLS, { sessionId: s.id, skillIds: [live.id, gone.id] }, { as: member }))).toEqual(['NOT_FOUND']);
    expect(await linked(s.id)).toEqual([]);
    const other = await f.session(await f.user());
    expect(codes(await t.gql(ATTACH_SKILLS, { sessionId: other.id, skillIds: [live.id] }, { as: member }))).toEqual(['NOT_FOUND']);
  });

  it('detaches the given skills and ignores ids not attached', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const [x, y] = [await f.skill(), await f.skill()];
    await f.link(s, x);
    await f.link(s, y);
    const result = await t.gql(DETACH_SKILLS, { sessionId: s.id, skillIds: [x.id, randomUUID()] }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(await linked(s.id)).toEqual([y.id]);
  });

  it('rejects more than 100 ids and malformed ids, listing the fields', async () => {
    const member = await f.user();
    const s = await f.session(member);
    const many = Array.from({ length: 101 }, () => randomUUID());
    expect(invalidFields(await t.gql(ATTACH_SKILLS, { sessionId: s.id, skillIds: many }, { as: member }))).toEqual(['skillIds']);
    expect(invalidFields(await t.gql(DETACH_SKILLS, { sessionId: 'x', skillIds: ['y'] }, { as: member })).sort()).toEqual([
      'sessionId',
      'skillIds',
    ]);
  });
});
