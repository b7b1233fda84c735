import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { argsLoader } from '../pagination/args-loader';
import { Queryable } from '../db/query-rows';
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

/** The loader key of a session's skills cut to `properties`. */
const cutKey = (id: string, properties: readonly (keyof SkillModel)[]) => ({ id, args: properties, argsKey: properties.join() });

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

    /** `Session.skills`: live skills of each visible session, by name (whole read models, also
     * `skillById`'s; a write primes them with what it wrote). */
    skillsBySessionId: loader<string, SkillModel[]>('skillsBySessionId', async (ids) =>
      (await relations(ids, SKILLS_COLUMN)).map(primeSkills),
    ),
    /** The same lists cut to what a selection reads: this selection's only, never `skillById`'s. */
    skillsCutBySessionId: argsLoader<readonly (keyof SkillModel)[], SkillModel[]>('skillsCutBySessionId', (ids, properties) =>
      relations(ids, skillsColumn(properties)),
    ),
    primeSkills,
  };
}

type SkillLoaders = ReturnType<typeof createSkillLoaders>;

/**
 * `Session.skills` for a selection reading `properties` of each skill: the whole list when the
 * request already has it (a write primed it, or a selection read it whole), else the list cut to
 * those properties.
 */
export function skillsOfSession(loaders: SkillLoaders, sessionId: string, properties: SkillProperties): SkillModel[] | Promise<SkillModel[]> {
  if (!properties || loaders.skillsBySessionId.has(sessionId)) return loaders.skillsBySessionId.get(sessionId);
  return loaders.skillsCutBySessionId.get(cutKey(sessionId, properties));
}

/** `Session.skills` fetched with a list's page statement. */
export function skillPrefetch(loaders: SkillLoaders): SessionFieldPrefetch {
  return {
    skills(_args, { field, fragments }) {
      const properties = skillPropertiesOf([field], fragments);
      if (!properties) {
        return {
          column: SKILLS_COLUMN,
          prime: (id, value) => loaders.skillsBySessionId.prime(id, loaders.primeSkills(value as SkillModel[])),
        };
      }
      return {
        key: properties.join(),
        column: skillsColumn(properties),
        prime: (id, value) => loaders.skillsCutBySessionId.prime(cutKey(id, properties), value as SkillModel[]),
      };
    },
  };
}
