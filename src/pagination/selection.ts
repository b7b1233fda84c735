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
  /** `edges` or `pageInfo` is selected: cursors may be read, so the nodes' keyset values. */
  cursors: boolean;
  /** Field names selected on the node, via `edges { node }` or `nodes`. */
  nodeFields: ReadonlySet<string>;
  /** The node's field selections themselves (aliases and arguments included). */
  nodeFieldNodes: readonly FieldNode[];
}

/**
 * What a document asks of its selections, worked out once per document: kept by the executor's
 * arrays of field nodes, which are the same for every execution of a compiled document (the
 * document cache hands out one AST per text), and gone with the document.
 */
export function perSelection<V>(compute: (fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>) => V) {
  const values = new WeakMap<readonly FieldNode[], V>();
  return (fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): V => {
    if (values.has(fieldNodes)) return values.get(fieldNodes)!;
    const value = compute(fieldNodes, fragments);
    values.set(fieldNodes, value);
    return value;
  };
}

const connectionSelections = perSelection(connectionSelectionOf);

/** `connectionSelection` of a connection field's resolve info, once per document (shared: never changed). */
export function connectionSelection(info: GraphQLResolveInfo): ConnectionSelection {
  return connectionSelections(info.fieldNodes, info.fragments);
}

const singleFields = new WeakMap<FieldNode, readonly FieldNode[]>();

/** `[field]`, the same array for the same field node: the key of the per-selection caches here
 * and in the features for a field picked out of a list's nodes. */
export function fieldNodesOf(field: FieldNode): readonly FieldNode[] {
  let nodes = singleFields.get(field);
  if (!nodes) singleFields.set(field, (nodes = [field]));
  return nodes;
}

/** `connectionSelection` of a connection field's nodes (through fragments). */
export function connectionSelectionOf(fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): ConnectionSelection {
  const top = fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, fragments));
  const nodeFieldNodes: FieldNode[] = [];
  let totalCount = false;
  let pageInfo = false;
  let edges = false;
  for (const field of top) {
    const name = field.name.value;
    if (name === 'totalCount') totalCount = true;
    else if (name === 'pageInfo') pageInfo = true;
    else if (name === 'nodes') fieldsOf(field.selectionSet, fragments, nodeFieldNodes);
    else if (name === 'edges') {
      edges = true;
      for (const edge of fieldsOf(field.selectionSet, fragments)) {
        if (edge.name.value === 'node') fieldsOf(edge.selectionSet, fragments, nodeFieldNodes);
      }
    }
  }
  return { totalCount, pageInfo, cursors: edges || pageInfo, nodeFields: new Set(nodeFieldNodes.map((f) => f.name.value)), nodeFieldNodes };
}

/** What each field of a type reads of its read model, as a table of field name to properties. */
export type FieldReads<P extends string> = ReadonlyMap<string, readonly P[]>;

/** A type's `FieldReads`, written as an object literal in its feature's `*.columns.ts`. */
export function fieldReads<P extends string>(table: Record<string, readonly P[]>): FieldReads<P> {
  return new Map(Object.entries(table));
}

/**
 * The read-model properties that `fields` (selections on one type) read, by what each field
 * reads (`read`: the type's table of fields, in its feature's `*.columns.ts`), with `always`.
 * Null when a field is not in `read` (a new one, or one whose resolver reads more): then every
 * column. Sorted, so equal selections give equal loader keys.
 */
export function propertiesRead<P extends string>(fields: readonly FieldNode[], read: FieldReads<P>, always: readonly P[]): P[] | null {
  const properties = new Set<P>(always);
  for (const field of fields) {
    const more = read.get(field.name.value);
    if (!more) return null;
    for (const property of more) properties.add(property);
  }
  return [...properties].sort();
}

/**
 * `propertiesRead` of the selection of a field whose type is the read model's (its field nodes,
 * through fragments), with `id`. Kept per array of field nodes: the executor hands every parent
 * of a list the same array, and a resolver asks once per parent.
 */
export function selectedProperties<P extends string>(read: FieldReads<P>, id: P) {
  return perSelection((fieldNodes, fragments) =>
    propertiesRead(fieldNodes.flatMap((node) => fieldsOf(node.selectionSet, fragments)), read, [id]),
  );
}

/** Whether a connection field's selection (its field nodes, through fragments) asks for `pageInfo`:
 * only then does a page need its probe row (`LIMIT size + 1`) and edge flags. */
export function selectsPageInfo(fieldNodes: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>): boolean {
  return fieldNodes.some((node) => fieldsOf(node.selectionSet, fragments).some((field) => field.name.value === 'pageInfo'));
}
