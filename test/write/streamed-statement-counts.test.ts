import { GqlResult, useTestServer } from '../harness';
import { User } from '../../src/users/user.entity';

const { t, f } = useTestServer({}, { invariants: true });

/**
 * Exact statements of the streaming mutations (x-sql-statements: authentication, BEGIN and COMMIT
 * included), as test/write/statement-counts.test.ts counts the others. An append and a finish are
 * one locking read of the session and the message (the only read of the row), the UPDATE of the
 * message (stamped on the session's clock in the same statement) and the session's `updatedAt`.
 * Appends that arrive together share those statements: a group's transaction is five statements
 * whatever its size, and each request counts them with its own authentication
 * (test/write/append-groups.test.ts).
 */
const EXPECTED = {
  'postMessage STREAMING': 6,
  appendMessageContent: 6,
  'appendMessageContent with a stale offset (CONFLICT)': 4,
  finishMessage: 6,
  'finishMessage with usage': 6,
} satisfies Record<string, number>;

type Case = keyof typeof EXPECTED;

const POST = `mutation($input: PostMessageInput!) { postMessage(input: $input) { id content status } }`;
const APPEND = `mutation($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { id content status } }`;
const FINISH = `mutation($id: ID!, $status: MessageStatus!, $usage: TokenUsageInput) { finishMessage(id: $id, status: $status, usage: $usage) { id status usage { inputTokens outputTokens model } } }`;

const gql = (query: string, variables: Record<string, unknown>, as: User) => t.gql(query, variables, { as });

async function opened(content = 'Hi') {
  const member = await f.user();
  const session = await f.session(member);
  await f.message(session);
  const posted = await gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content, status: 'STREAMING' } }, member);
  return { member, session, id: posted.data.postMessage.id as string };
}

const CASES: Record<Case, () => Promise<GqlResult>> = {
  'postMessage STREAMING': async () => {
    const member = await f.user();
    const session = await f.session(member);
    await f.message(session);
    return gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content: '', status: 'STREAMING' } }, member);
  },
  appendMessageContent: async () => {
    const { member, id } = await opened();
    return gql(APPEND, { id, delta: ' there', offset: 2 }, member);
  },
  'appendMessageContent with a stale offset (CONFLICT)': async () => {
    const { member, id } = await opened();
    return gql(APPEND, { id, delta: ' there', offset: 0 }, member);
  },
  finishMessage: async () => {
    const { member, id } = await opened();
    return gql(FINISH, { id, status: 'COMPLETE' }, member);
  },
  'finishMessage with usage': async () => {
    const { member, id } = await opened();
    return gql(FINISH, { id, status: 'FAILED', usage: { inputTokens: 10, outputTokens: 20, model: 'm' } }, member);
  },
};

const FAILS = new Set<Case>(['appendMessageContent with a stale offset (CONFLICT)']);

it.each(Object.entries(EXPECTED) as [Case, number][])('%s issues exactly %d statements', async (name, expected) => {
  const result = await CASES[name]();
  if (FAILS.has(name)) expect(result.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  else expect(result.errors).toBeUndefined();
  expect(result.statements).toHaveLength(result.sql);
  const statements = result.statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 160));
  expect(result.sql).toBe(expected);
  // The row a write locks is its only read of it: no TypeORM reload, no re-read for the answer.
  expect(statements.slice(1).filter((sql) => /^SELECT/i.test(sql))).toHaveLength(1);
});
