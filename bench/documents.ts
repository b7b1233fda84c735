// The documents the bench measures, shared with the tests that count their SQL statements.

/** The canonical dashboard of issue #17 (the bench's main rows). */
export const CANONICAL = `query Canonical($first: Int!) {
  sessions(first: $first) {
    nodes {
      id title isSyncing createdAt
      owner { id displayName }
      skills { id name }
      messageCount
      messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content createdAt } }
    }
  }
}`;

/**
 * ~14 kB: a hundred fragments on Session spread in one page of sessions (issue #12's "new
 * document"); `tag` makes the text new, so the server parses, validates, estimates and compiles it.
 */
export function newDocument(tag: string): string {
  const fragments = Array.from(
    { length: 100 },
    (_, i) => `fragment F${i} on Session { id title createdAt updatedAt isSyncing version deletedAt owner { id email displayName role createdAt } __typename }`,
  );
  return [`query Big${tag} { sessions(first: 3) { totalCount nodes { ${fragments.map((_, i) => `...F${i}`).join(' ')} } } }`, ...fragments].join('\n');
}
