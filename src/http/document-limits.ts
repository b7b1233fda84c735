import { DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, Kind, Lexer, SelectionSetNode, Source, syntaxError, TokenKind } from 'graphql';
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

/** Brackets, braces and parentheses a document may hold open at once (see checkNesting). */
export const MAX_NESTING = 256;

const OPENERS: ReadonlySet<TokenKind> = new Set([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSERS: ReadonlySet<TokenKind> = new Set([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/**
 * Refuses, before graphql-js parses it, a document nested more than MAX_NESTING levels deep.
 *
 * The parser recurses at every `[`, `{` and `(`. About 2,900 nested lists (`[[[…"x"…]]]`) overflowed
 * the stack before the token limit (HUB_MAX_QUERY_TOKENS) stopped them, and the answer was "Maximum
 * call stack size exceeded". With a larger token limit, nested objects and selections overflowed
 * too, and so would any later walk of the tree.
 *
 * The check is one pass of graphql-js's own lexer, so brackets inside strings and comments do not
 * count, and tokens are counted as the parser counts them:
 * - No deeper than the limit: the check says nothing. The parse that follows gives graphql-js's
 *   own answer, its token-limit error included, and recurses no deeper than was checked.
 * - Deeper, within the token limit: TOO_DEEPLY_NESTED.
 * - Deeper and over the token limit: the token limit's error, as the parse would give it. A
 *   document over both limits is refused for its tokens, whatever its depth.
 * A lexical error ends the check as it would end the parse: at that point.
 */
export function checkNesting(text: string, maxTokens: number): void {
  const source = new Source(text);
  const { deepest, overAt } = scanNesting(source, maxTokens);
  if (deepest <= MAX_NESTING) return;
  if (overAt !== undefined) {
    const { message, positions } = syntaxError(source, overAt, `Document contains more that ${maxTokens} tokens. Parsing aborted.`);
    throw new GraphQLError(message, { source, positions, extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } } });
  }
  throw documentRefused('TOO_DEEPLY_NESTED', `The document nests brackets, braces and parentheses more than ${MAX_NESTING} levels deep`);
}

/** The deepest nesting before the parse would stop, and where it stops for the token limit, if it does. */
function scanNesting(source: Source, maxTokens: number): { deepest: number; overAt?: number } {
  const lexer = new Lexer(source);
  let depth = 0;
  let deepest = 0;
  let tokens = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      tokens += 1;
      if (tokens > maxTokens) return { deepest, overAt: token.start };
      if (OPENERS.has(token.kind)) deepest = Math.max(deepest, (depth += 1));
      else if (CLOSERS.has(token.kind)) depth -= 1;
    }
  } catch (error) {
    // A lexical error: the parse stops at the same place.
    if (!(error instanceof GraphQLError)) throw error;
  }
  return { deepest };
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

/**
 * Field comparisons graphql-js's OverlappingFieldsCanBeMergedRule may make for one document. The
 * rule compares every pair of fields with the same response name in a selection set (fragments
 * expanded), and for each pair their sub-selections, recursively: `{ me { id } me { id } … }` of
 * 740 fields is 273,000 pairs, and the rule's own budget (500,000 steps) is 1.3 s of CPU before it
 * aborts. Ordinary documents make a few hundred; a hundred different fragments on one type
 * spread together some 80,000. The rule sees a document without its repeated fragments
 * (src/http/validate-document.ts), and that is the document counted.
 */
export const MAX_FIELD_COMPARISONS = 100_000;

type FieldsByName = Map<string, FieldNode[]>;

/**
 * Refuses, before validation, a document whose fields would need more than MAX_FIELD_COMPARISONS
 * comparisons to check that they merge: the rule's pairs counted (not compared) with its own
 * walk, stopped as soon as the count passes the bound, so this check costs at most the bound in
 * cheap steps. Returns the count (what validating the document will cost, for the new-document
 * budget). Run after checkDocumentSize (the expansion it walks is bounded there).
 */
export function checkFieldOverlap(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let left = MAX_FIELD_COMPARISONS;
  const spend = () => {
    if (--left < 0) {
      throw documentRefused(
        'TOO_MANY_OVERLAPPING_FIELDS',
        `The document repeats fields under the same name too often (over ${MAX_FIELD_COMPARISONS} comparisons to merge them): select each field once`,
      );
    }
  };
  const collected = new WeakMap<SelectionSetNode, FieldsByName>();
  // A fragment spread twice in one selection set (or reached again through another fragment) is
  // collected once, as the rule does; that also ends a cycle.
  const collect = (set: SelectionSetNode, into: FieldsByName, visited: Set<string>) => {
    for (const selection of set.selections) {
      spend();
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        const list = into.get(name);
        if (list) list.push(selection);
        else into.set(name, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet, into, visited);
      else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || visited.has(fragment.name.value)) continue;
        visited.add(fragment.name.value);
        collect(fragment.selectionSet, into, visited);
      }
    }
  };
  const fieldsOf = (set: SelectionSetNode): FieldsByName => {
    let fields = collected.get(set);
    if (!fields) {
      fields = new Map();
      collect(set, fields, new Set());
      collected.set(set, fields);
    }
    return fields;
  };
  const between = (a: SelectionSetNode | undefined, b: SelectionSetNode | undefined) => {
    if (!a || !b) return;
    const second = fieldsOf(b);
    for (const [name, xs] of fieldsOf(a)) {
      const ys = second.get(name);
      if (!ys) continue;
      for (const x of xs) {
        for (const y of ys) {
          spend();
          between(x.selectionSet, y.selectionSet);
        }
      }
    }
  };
  const within = (set: SelectionSetNode) => {
    for (const list of fieldsOf(set).values()) {
      for (let i = 0; i < list.length; i += 1) {
        for (let j = i + 1; j < list.length; j += 1) {
          spend();
          between(list[i].selectionSet, list[j].selectionSet);
        }
      }
    }
  };
  // Every selection set of the document, as the rule visits them (each set once, by hand: cheaper
  // than graphql's visitor for a document of thousands of fields).
  const walk = (set: SelectionSetNode) => {
    within(set);
    for (const selection of set.selections) {
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) walk(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  return MAX_FIELD_COMPARISONS - left;
}
