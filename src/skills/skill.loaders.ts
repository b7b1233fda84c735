import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { LoadRelation, RelationColumn, SessionFieldPrefetch } from '../sessions/session.relations';
import { SkillModel, skillRows } from './skill.rows';

/** A session's live skills by name (code point order, as a write's answer sorts them: src/common/text.ts), as a column of the sessions' relations statement. */
const SKILLS_COLUMN: RelationColumn<SkillModel[]> = {
  sql: () =>
    skillRows.jsonList(`SELECT ${skillRows.jsonSelect('sk')}
      FROM session_skills ss JOIN skills sk ON sk.id = ss.skill_id AND sk.deleted_at IS NULL
      WHERE ss.session_id = s.id ORDER BY sk.name COLLATE "C", sk.id`),
  decode: (value) => skillRows.fromJson((value ?? []) as SkillModel[]),
};

export function createSkillLoaders(db: Queryable, _viewer: Viewer, relations: LoadRelation) {
  /** Live catalogue skills; the catalogue is visible to every user. */
  const skillById = loader<string, SkillModel | null>('skillById', async (ids) => {
    const rows = await db.query<SkillModel>(
      `SELECT ${skillRows.select('sk')} FROM skills sk WHERE sk.id = ANY($1::uuid[]) AND sk.deleted_at IS NULL`,
      [ids],
    );
    return byKeys(ids, rows, (s) => s.id);
  });

  const primeSkills = (skills: SkillModel[]) => {
    for (const skill of skills) skillById.prime(skill.id, skill);
    return skills;
  };

  return {
    skillById,

    /** `Session.skills`: live skills of each visible session, by name. */
    skillsBySessionId: loader<string, SkillModel[]>('skillsBySessionId', async (ids) =>
      (await relations(ids, SKILLS_COLUMN)).map(primeSkills),
    ),
    primeSkills,
  };
}

/** `Session.skills` fetched with a list's page statement. */
export function skillPrefetch(loaders: ReturnType<typeof createSkillLoaders>): SessionFieldPrefetch {
  return {
    skills: () => ({
      column: SKILLS_COLUMN,
      prime: (id, value) => loaders.skillsBySessionId.prime(id, loaders.primeSkills(value as SkillModel[])),
    }),
  };
}
