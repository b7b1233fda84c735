import { loader } from '../db/loader';
import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { byKeys, groupByKeys } from '../db/by-keys';
import { SqlParams } from '../pagination/sql-params';
import { sessionScope } from '../sessions/session.scope';
import { Skill } from './skill.entity';
import { skillColumns, toSkill } from './skill.rows';

export function createSkillLoaders(dataSource: DataSource, viewer: Viewer) {
  /** Live catalogue skills; the catalogue is visible to every user. */
  const skillById = loader<string, Skill | null>('skillById', async (ids) => {
    const rows: Record<string, unknown>[] = await dataSource.query(
      `SELECT ${skillColumns('sk')} FROM skills sk WHERE sk.id = ANY($1::uuid[]) AND sk.deleted_at IS NULL`,
      [ids],
    );
    return byKeys(ids, rows.map((row) => toSkill(row)), (s) => s.id);
  });

  return {
    skillById,

    /** `Session.skills`: live skills of each visible session, by name, in one statement. */
    skillsBySessionId: loader<string, Skill[]>('skillsBySessionId', async (ids) => {
      const params = new SqlParams();
      const sql = `SELECT ss.session_id AS link_session_id, ${skillColumns('sk')}
        FROM session_skills ss
        JOIN sessions s ON s.id = ss.session_id AND ${params.named(sessionScope(viewer, 's'))}
        JOIN skills sk ON sk.id = ss.skill_id AND sk.deleted_at IS NULL
        WHERE ss.session_id = ANY(${params.add(ids)}::uuid[])
        ORDER BY sk.name, sk.id`;
      const rows: Record<string, any>[] = await dataSource.query(sql, params.values);
      const links = rows.map((row) => {
        const skill = toSkill(row);
        skillById.prime(skill.id, skill);
        return { sessionId: row.link_session_id as string, skill };
      });
      return groupByKeys(ids, links, (l) => l.sessionId).map((group) => group.map((l) => l.skill));
    }),
  };
}
