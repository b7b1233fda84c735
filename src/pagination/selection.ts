import { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';

/** The field names selected directly in a selection set, through fragments. Directives
 * (`@include`/`@skip`) are ignored: reading a field that is then skipped is only extra work. */
export function fieldsOf(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  into: FieldNode[] = [],
): FieldNode[] {
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) into.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fieldsOf(selection.selectionSet, fragments, into);
    else fieldsOf(fragments[selection.name.value]?.selectionSet, fragments, into);
  }
  return into;
}

/** What a connection field's selection asks for, so the list statement can fetch the count and
 * the nodes' relations together with the page instead of in statements of their own. */
export interface ConnectionSelection {
  totalCount: boolean;
  /** `pageInfo` is selected: only then does the page need its probe row and edge flags. */
  pageInfo: boolean;
  /** Field names selected on the node, via `edges { node }` or `nodes`. */
  nodeFields: Set<string>;
  /** The node's field selections themselves (aliases and arguments included). */
  nodeFieldNodes: FieldNode[];
}

export function connectionSelection(info: GraphQLResolveInfo): ConnectionSelection {
  const { fragments } = info;
  const top = info.fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, fragments));
  const nodeFieldNodes: FieldNode[] = [];
  let totalCount = false;
  let pageInfo = false;
  for (const field of top) {
    const name = field.name.value;
    if (name === 'totalCount') totalCount = true;
    else if (name === 'pageInfo') pageInfo = true;
    else if (name === 'nodes') fieldsOf(field.selectionSet, fragments, nodeFieldNodes);
    else if (name === 'edges') {
      for (const edge of fieldsOf(field.selectionSet, fragments)) {
        if (edge.name.value === 'node') fieldsOf(edge.selectionSet, fragments, nodeFieldNodes);
      }
    }
  }
  return { totalCount, pageInfo, nodeFields: new Set(nodeFieldNodes.map((f) => f.name.value)), nodeFieldNodes };
}

/** Whether a connection field's selection (its field nodes, through fragments) asks for `pageInfo`:
 * only then does a page need its probe row (`LIMIT size + 1`) and edge flags. */
export function selectsPageInfo(fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): boolean {
  return fieldNodes.some((node) => fieldsOf(node.selectionSet, fragments).some((field) => field.name.value === 'pageInfo'));
}
