import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { fieldNodesOf } from '../pagination/selection';
import { LoadRelation, RelationColumn, SessionFieldPrefetch } from '../sessions/session.relations';
import { skillPropertiesOf } from './skill.columns';
import { SkillModel, skillRows } from './skill.rows';

/** Skills cut to the properties a selection reads (skill.columns.ts), or null: whole read models. */
type SkillProperties = readonly (keyof SkillModel)[] | null;

/**
 * A session's live skills by name (code point order, as a write's answer sorts them:
 * src/common/text.ts), as a column of the sessions' relations statement, each skill with
 * `properties` only (null: the whole read model).
 */
function skillsColumn(properties: SkillProperties): RelationColumn<SkillModel[]> {
  return {
    sql: () =>
      skillRows.jsonList(`SELECT ${skillRows.jsonSelect('sk', properties)}
        FROM session_skills ss JOIN skills sk ON sk.id = ss.skill_id AND sk.deleted_at IS NULL
        WHERE ss.session_id = s.id ORDER BY sk.name COLLATE "C", sk.id`),
    decode: (value) => skillRows.fromJson((value ?? []) as SkillModel[]),
  };
}

const SKILLS_COLUMN = skillsColumn(null);

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

    /** `Session.skills`: live skills of each visible session, by name. Whole read models, also
     * `skillById`'s; a list that read them cut primes them cut (`primeCut`, `getFor`). */
    skillsBySessionId: loader<string, SkillModel[]>('skillsBySessionId', async (ids) =>
      (await relations(ids, SKILLS_COLUMN)).map(primeSkills),
    ),
    primeSkills,
  };
}

type SkillLoaders = ReturnType<typeof createSkillLoaders>;

/** `Session.skills` fetched with a list's page statement. */
export function skillPrefetch(loaders: SkillLoaders): SessionFieldPrefetch {
  return {
    skills(_args, { field, fragments }) {
      const properties = skillPropertiesOf(fieldNodesOf(field), fragments);
      return {
        key: properties?.join(),
        column: properties ? skillsColumn(properties) : SKILLS_COLUMN,
        // Whole skills are also `skillById`'s; cut ones are this list's only.
        prime: (id, value) =>
          loaders.skillsBySessionId.primeAs(id, properties ? (value as SkillModel[]) : loaders.primeSkills(value as SkillModel[]), properties),
      };
    },
  };
}
