import { entityRows, ReadModel } from '../db/entity-rows';
import { Skill } from './skill.entity';

/** Skills on the read path: the select list and hydration derived from the entity's columns. */
export const skillRows = entityRows(Skill);

/** A skill as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type SkillModel = ReadModel<Skill>;

/** Skills as entities for the write path (locks): stored values, timestamps as `Date`s. */
export const skillColumns = (alias: string, prefix = '') => skillRows.entitySelect(alias, prefix);
export const toSkill = (row: Record<string, unknown>, prefix = '') => skillRows.toEntity(row, prefix);
