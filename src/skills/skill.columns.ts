import { FieldNode, FragmentDefinitionNode } from 'graphql';
import { fieldsOf } from '../pagination/selection';
import { SkillModel } from './skill.rows';

/**
 * What each `Skill` field reads of the read model. A field not listed here (a new one, or one
 * whose resolver reads more) makes a list of skills read every column.
 */
const FIELD_PROPERTIES = new Map<string, readonly (keyof SkillModel)[]>(Object.entries({
  __typename: [],
  id: ['id'],
  name: ['name'],
  description: ['description'],
  createdAt: ['createdAt'],
  sessions: ['id'],
  sessionCount: ['id'],
} satisfies Record<string, readonly (keyof SkillModel)[]>));

/** The properties of a selection, by its field nodes: the executor hands every session of a list the same array. */
const readBySelection = new WeakMap<readonly FieldNode[], (keyof SkillModel)[] | null>();

/**
 * The read-model properties a `Session.skills` selection (its field nodes, through fragments)
 * reads of each skill; always `id`. Null: every column (a field this does not know). Sorted, so
 * equal selections give equal loader keys.
 */
export function skillPropertiesOf(
  fieldNodes: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): (keyof SkillModel)[] | null {
  let read = readBySelection.get(fieldNodes);
  if (read === undefined) readBySelection.set(fieldNodes, (read = propertiesOf(fieldNodes, fragments)));
  return read;
}

function propertiesOf(fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): (keyof SkillModel)[] | null {
  const properties = new Set<keyof SkillModel>(['id']);
  for (const node of fieldNodes) {
    for (const field of fieldsOf(node.selectionSet, fragments)) {
      const read = FIELD_PROPERTIES.get(field.name.value);
      if (!read) return null;
      for (const property of read) properties.add(property);
    }
  }
  return [...properties].sort();
}
