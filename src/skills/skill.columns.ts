import { fieldReads, selectedProperties } from '../pagination/selection';
import { SkillModel } from './skill.rows';

/**
 * What each `Skill` field reads of the read model. A field not listed here (a new one, or one
 * whose resolver reads more) makes a list of skills read every column.
 */
const FIELD_PROPERTIES = fieldReads<keyof SkillModel>({
  __typename: [],
  id: ['id'],
  name: ['name'],
  description: ['description'],
  createdAt: ['createdAt'],
  sessions: ['id'],
  sessionCount: ['id'],
});

/**
 * The read-model properties a `Session.skills` selection (its field nodes, through fragments)
 * reads of each skill; always `id`. Null: every column (a field this does not know).
 */
export const skillPropertiesOf = selectedProperties<keyof SkillModel>(FIELD_PROPERTIES, 'id');
