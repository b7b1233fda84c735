import { DocumentNode, FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode } from 'graphql';
import { ErrorCode } from '../errors';

/** Fragment definitions one document may hold. */
export const MAX_FRAGMENTS = 100;
/** Selections once every fragment spread is expanded (what validation and execution walk). */
export const MAX_EXPANDED_SELECTIONS = 5_000;

/** A refused document: BAD_USER_INPUT with HTTP 400, a stable `reason` and the promised `validation` list. */
export function documentRefused(reason: string, message: string, status = 400): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, reason, validation: [{ field: 'query', message }], http: { status } },
  });
}

/**
 * Checks the size of a parsed document before graphql-js validates it. Several standard rules
 * (and depth limits) walk fragment spreads recursively, so a chain of fragments each spreading
 * the next two overflows the stack or takes exponential time; here every fragment's expanded size
 * is computed once (memoized), so the check itself is linear in the document. A fragment cycle
 * counts as nothing here: validation (NoFragmentCycles) names it, on a bounded number of fragments.
 */
export function checkDocumentSize(document: DocumentNode): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  if (fragments.size > MAX_FRAGMENTS) {
    throw documentRefused('TOO_MANY_FRAGMENTS', `The document defines more than ${MAX_FRAGMENTS} fragments`);
  }
  const sizes = new Map<string, number>();
  const active = new Set<string>();
  const tooBig = () =>
    documentRefused('TOO_MANY_SELECTIONS', `The document selects more than ${MAX_EXPANDED_SELECTIONS} fields once its fragments are expanded`);

  const fragmentSize = (name: string): number => {
    const known = sizes.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || active.has(name)) return 0;
    active.add(name);
    const size = selectionSize(fragment.selectionSet);
    active.delete(name);
    sizes.set(name, size);
    return size;
  };
  const selectionSize = (set: SelectionSetNode | undefined): number => {
    let size = 0;
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) size += 1 + selectionSize(selection.selectionSet);
      else if (selection.kind === Kind.INLINE_FRAGMENT) size += 1 + selectionSize(selection.selectionSet);
      else size += 1 + fragmentSize(selection.name.value);
      if (size > MAX_EXPANDED_SELECTIONS) throw tooBig();
    }
    return size;
  };

  let total = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) total += selectionSize(definition.selectionSet);
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) fragmentSize(definition.name.value);
    if (total > MAX_EXPANDED_SELECTIONS) throw tooBig();
  }
}
