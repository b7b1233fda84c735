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
