/**
 * Backward and forward paging, generated (issue #16, item 3): for every connection and order,
 * lists of generated rows with tied sort values and soft-deleted rows interleaved are walked
 * forward from the start (`first`/`after`) and backward from the end (`last`/`before`). Both
 * walks give exactly the list an independent SQL query gives (no gaps, no duplicates, same
 * order), every page's `hasPreviousPage`/`hasNextPage` is exact, and a window between two
 * cursors (`after` + `before`) pages the items strictly between them from either end.
 *
 * The lists `users` and `skills` are global, so this file runs on a database of its own and
 * clears it between runs.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { freshDatabase } from '../databases';
import { factories } from '../factories';
import { GqlResult, startTestServer, testDatabaseUrl, TestServer } from '../harness';

let t: TestServer;
let drop: () => Promise<void>;
let admin: User;
beforeAll(async () => {
  const db = await freshDatabase(testDatabaseUrl());
  drop = db.drop;
  t = await startTestServer({ DATABASE_URL: db.url });
  admin = await factories(t.dataSource).admin();
}, 60_000);
afterAll(async () => {
  await t?.close();
  await drop?.();
});

/** One generated row: its sort value as a tick (few ticks, so ties are common) and whether it is soft-deleted. */
interface Row {
  tick: number;
  tick2: number;
  deleted: boolean;
}
const rowArb = fc.record({
  tick: fc.nat({ max: 3 }),
  tick2: fc.nat({ max: 3 }),
  deleted: fc.boolean(),
});
const BASE = Date.UTC(2026, 5, 1);
const at = (tick: number) => new Date(BASE + tick * 1000).toISOString();
const PAGE = 'edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const ARGS = 'first: $first, after: $after, last: $last, before: $before';
const VARS = '$first: Int, $after: String, $last: Int, $before: String';

/** A connection under test: how to build its list, page it, and ask SQL for the truth. */
interface Subject {
  name: string;
  /** Inserts the generated rows; returns who pages, the document's other variables, and the oracle. */
  setup(rows: Row[]): Promise<{
    as: User;
    vars: Record<string, unknown>;
    truth: () => Promise<string[]>;
  }>;
  doc: string;
  connection(data: any): {
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: any;
  };
}

const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

async function clear(): Promise<void> {
  await t.dataSource.query('DELETE FROM users WHERE id <> $1', [admin.id]);
  await t.dataSource.query('DELETE FROM sessions');
  await t.dataSource.query('DELETE FROM skills');
}

async function member(): Promise<User> {
  return factories(t.dataSource).user();
}

/** Sessions of `owner` from generated rows: created at `tick`, updated at `tick2`, some soft-deleted. */
async function insertSessions(owner: User, rows: Row[]): Promise<string[]> {
  const inserted: { id: string }[] = await t.dataSource.query(
    `INSERT INTO sessions (user_id, title, created_at, updated_at, deleted_at)
     SELECT $1, 'S ' || r.n, r.c, greatest(r.c, r.u), CASE WHEN r.d THEN greatest(r.c, r.u) + interval '1 hour' END
     FROM unnest($2::timestamptz[], $3::timestamptz[], $4::boolean[]) WITH ORDINALITY AS r(c, u, d, n) ORDER BY r.n RETURNING id`,
    [owner.id, rows.map((r) => at(r.tick)), rows.map((r) => at(r.tick2)), rows.map((r) => r.deleted)],
  );
  return ids(inserted);
}

const SESSION_ORDERS: Record<string, string> = {
  CREATED_AT_DESC: 'created_at DESC, id DESC',
  CREATED_AT_ASC: 'created_at ASC, id ASC',
  UPDATED_AT_DESC: 'updated_at DESC, id DESC',
};

const SUBJECTS: Subject[] = [
  {
    name: 'users',
    doc: `query(${VARS}) { users(${ARGS}) { ${PAGE} } }`,
    connection: (d) => d.users,
    async setup(rows) {
      await t.dataSource.query(
        `INSERT INTO users (email, display_name, role, created_at)
         SELECT 'u' || r.n || '-' || $2 || '@paging.test', 'U', 'MEMBER', r.c FROM unnest($1::timestamptz[]) WITH ORDINALITY AS r(c, n)`,
        [rows.map((r) => at(r.tick)), randomUUID().slice(0, 8)],
      );
      return {
        as: admin,
        vars: {},
        truth: async () => ids(await t.dataSource.query('SELECT id FROM users ORDER BY created_at, id')),
      };
    },
  },
  ...Object.entries(SESSION_ORDERS).map(([order, sql]): Subject => ({
    name: `sessions ${order}`,
    doc: `query(${VARS}) { sessions(${ARGS}, orderBy: ${order}) { ${PAGE} } }`,
    connection: (d) => d.sessions,
    async setup(rows) {
      const owner = await member();
      await insertSessions(owner, rows);
      await insertSessions(await member(), rows.slice(0, 3)); // another member's: never listed
      const truth = async () =>
        ids(
          await t.dataSource.query(
            `SELECT id FROM sessions WHERE user_id = $1 AND deleted_at IS NULL ORDER BY ${sql}`,
            [owner.id],
          ),
        );
      return { as: owner, vars: {}, truth };
    },
  })),
  {
    name: 'User.sessions',
    doc: `query(${VARS}, $id: ID!) { user(id: $id) { sessions(${ARGS}) { ${PAGE} } } }`,
    connection: (d) => d.user.sessions,
    async setup(rows) {
      const owner = await member();
      await insertSessions(owner, rows);
      const truth = async () =>
        ids(
          await t.dataSource.query(
            `SELECT id FROM sessions WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`,
            [owner.id],
          ),
        );
      return { as: admin, vars: { id: owner.id }, truth };
    },
  },
  {
    name: 'Skill.sessions',
    doc: `query(${VARS}, $id: ID!) { skill(id: $id) { sessions(${ARGS}) { ${PAGE} } } }`,
    connection: (d) => d.skill.sessions,
    async setup(rows) {
      const owner = await member();
      const skill = await factories(t.dataSource).skill();
      const mine = await insertSessions(owner, rows);
      const theirs = await insertSessions(await member(), rows.slice(0, 3));
      // Every other session of the owner's carries the skill, and all of the other member's.
      const linked = [...mine.filter((_, i) => i % 2 === 0), ...theirs];
      await t.dataSource.query(`INSERT INTO session_skills (session_id, skill_id) SELECT unnest($1::uuid[]), $2`, [
        linked,
        skill.id,
      ]);
      const truth = async () =>
        ids(
          await t.dataSource.query(
            `SELECT s.id FROM sessions s JOIN session_skills ss ON ss.session_id = s.id
             WHERE ss.skill_id = $1 AND s.user_id = $2 AND s.deleted_at IS NULL ORDER BY s.created_at DESC, s.id DESC`,
            [skill.id, owner.id],
          ),
        );
      return { as: owner, vars: { id: skill.id }, truth };
    },
  },
  ...['CREATED_AT_ASC', 'CREATED_AT_DESC'].map((order): Subject => ({
    name: `Session.messages ${order}`,
    doc: `query(${VARS}, $id: ID!) { session(id: $id) { messages(${ARGS}, orderBy: ${order}) { ${PAGE} } } }`,
    connection: (d) => d.session.messages,
    async setup(rows) {
      const owner = await member();
      const [session] = await insertSessions(owner, [{ tick: 0, tick2: 0, deleted: false }]);
      await t.dataSource.query(
        `INSERT INTO messages (session_id, role, content, created_at, deleted_at)
           SELECT $1, 'USER', 'M ' || r.n, r.c, CASE WHEN r.d THEN r.c + interval '1 hour' END
           FROM unnest($2::timestamptz[], $3::boolean[]) WITH ORDINALITY AS r(c, d, n)`,
        [session, rows.map((r) => at(r.tick)), rows.map((r) => r.deleted)],
      );
      const dir = order === 'CREATED_AT_ASC' ? 'ASC' : 'DESC';
      const truth = async () =>
        ids(
          await t.dataSource.query(
            `SELECT id FROM messages WHERE session_id = $1 AND deleted_at IS NULL ORDER BY created_at ${dir}, id ${dir}`,
            [session],
          ),
        );
      return { as: owner, vars: { id: session }, truth };
    },
  })),
  {
    name: 'skills',
    doc: `query(${VARS}) { skills(${ARGS}) { ${PAGE} } }`,
    connection: (d) => d.skills,
    async setup(rows) {
      // Deleted skills may share a live skill's name: ties by name, broken by id.
      await t.dataSource.query(
        `INSERT INTO skills (name, description, deleted_at)
         SELECT 'skill-' || r.t || CASE WHEN r.d THEN '' ELSE '-' || r.n END, NULL, CASE WHEN r.d THEN now() END
         FROM unnest($1::int[], $2::boolean[]) WITH ORDINALITY AS r(t, d, n)`,
        [rows.map((r) => r.tick), rows.map((r) => r.deleted)],
      );
      const truth = async () =>
        ids(await t.dataSource.query('SELECT id FROM skills WHERE deleted_at IS NULL ORDER BY name, id'));
      return { as: await member(), vars: {}, truth };
    },
  },
];

type PageVars = {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
};

async function page(subject: Subject, as: User, vars: Record<string, unknown>, paging: PageVars) {
  const result: GqlResult = await t.gql(subject.doc, { ...vars, ...paging }, { as });
  expect(result.errors).toBeUndefined();
  return subject.connection(result.data);
}

describe('paging', () => {
  it.each(SUBJECTS.map((s) => [s.name, s] as const))(
    '%s: forward and backward walks give the list, with exact page flags',
    async (_name, subject) => {
      const runs = Number(process.env.HUB_PAGING_RUNS ?? 5);
      await fc.assert(
        fc.asyncProperty(
          fc.array(rowArb, { maxLength: 12 }),
          fc.integer({ min: 1, max: 5 }),
          fc.nat(),
          fc.nat(),
          async (rows, size, i0, j0) => {
            await clear();
            const { as, vars, truth } = await subject.setup(rows);
            const expected = await truth();

            // Forward from the start.
            const forward: string[] = [];
            const cursors: string[] = [];
            let after: string | undefined;
            for (;;) {
              const c = await page(subject, as, vars, { first: size, after });
              forward.push(...c.edges.map((e) => e.node.id));
              cursors.push(...c.edges.map((e) => e.cursor));
              expect(c.pageInfo.hasPreviousPage).toBe(after !== undefined && expected.length > 0);
              expect(c.pageInfo.hasNextPage).toBe(forward.length < expected.length);
              if (!c.pageInfo.hasNextPage) break;
              after = c.pageInfo.endCursor;
            }
            expect(forward).toEqual(expected);

            // Backward from the end.
            const backward: string[] = [];
            let before: string | undefined;
            for (;;) {
              const c = await page(subject, as, vars, { last: size, before });
              backward.unshift(...c.edges.map((e) => e.node.id));
              expect(c.pageInfo.hasNextPage).toBe(before !== undefined && expected.length > 0);
              expect(c.pageInfo.hasPreviousPage).toBe(backward.length < expected.length);
              if (!c.pageInfo.hasPreviousPage) break;
              before = c.pageInfo.startCursor;
            }
            expect(backward).toEqual(expected);

            // A window between two items' cursors, from either end.
            if (expected.length >= 2) {
              const i = i0 % (expected.length - 1);
              const j = i + 1 + (j0 % (expected.length - 1 - i));
              const between = expected.slice(i + 1, j);
              const window = { after: cursors[i], before: cursors[j] };
              const head = await page(subject, as, vars, {
                first: size,
                ...window,
              });
              expect(head.edges.map((e) => e.node.id)).toEqual(between.slice(0, size));
              expect(head.pageInfo).toMatchObject({
                hasPreviousPage: true,
                hasNextPage: true,
              });
              const tail = await page(subject, as, vars, {
                last: size,
                ...window,
              });
              expect(tail.edges.map((e) => e.node.id)).toEqual(between.slice(Math.max(0, between.length - size)));
              expect(tail.pageInfo).toMatchObject({
                hasPreviousPage: true,
                hasNextPage: true,
              });
            }
          },
        ),
        { numRuns: runs },
      );
    },
    120_000,
  );
});

describe('paging arguments', () => {
  it('refuses first with last, and last out of range, as BAD_USER_INPUT naming the argument', async () => {
    for (const [vars, field] of [
      [{ first: 2, last: 2 }, 'last'],
      [{ last: -1 }, 'last'],
      [{ last: 101 }, 'last'],
    ] as const) {
      const result = await t.gql(`query(${VARS}) { skills(${ARGS}) { totalCount } }`, vars, { as: admin });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0].extensions!.validation).toEqual([{ field, message: expect.any(String) }]);
    }
  });

  it('pages backward from a before cursor alone, nearest items first', async () => {
    await clear();
    const owner = await member();
    await insertSessions(
      owner,
      Array.from({ length: 30 }, (_, i) => ({
        tick: i,
        tick2: i,
        deleted: false,
      })),
    );
    const all = await page(SUBJECTS[1], owner, {}, { first: 30 });
    const c = await page(SUBJECTS[1], owner, {}, { before: all.edges[25].cursor });
    // The default page size (20), ending right before the cursor.
    expect(c.edges.map((e) => e.node.id)).toEqual(all.edges.slice(5, 25).map((e) => e.node.id));
    expect(c.pageInfo).toMatchObject({
      hasPreviousPage: true,
      hasNextPage: true,
    });
  });
});
