import fc from 'fast-check';
import { Client } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { MessageSearchVector1796530286950 } from '../../migrations/1796530286950-message-search-vector';
import { backfillSearchVectors } from '../../migrations/support/online-ddl';
import { SearchEscapedText1796800000000 } from '../../migrations/1796800000000-search-escaped-text';
import { PreparingClient } from '../../src/db/prepared-statements';
import { pendingSchemaDiff } from '../../src/db/schema-diff';
import { Message } from '../../src/messages/message.entity';
import { searchVector } from '../../src/db/text-search';
import { searchPageStatement } from '../../src/search/search.sql';
import { parseSessionFilter } from '../../src/sessions/session.filter';
import { SESSION_ORDERS } from '../../src/sessions/session.order';
import { sessionsPageStatement } from '../../src/sessions/session.sql';
import { onFreshDatabase, testDatabaseUrl } from '../harness';
import { text } from './data';

/** The vector MessageSearchVector defined; SearchEscapedText parses the content HTML-escaped. */
const PLAIN_VECTOR = `to_tsvector('english'::regconfig, content)`;

/** Messages whose stored vector is not their content's (by default as search reads it today). */
async function staleVectors(ds: DataSource, vector = searchVector('content')): Promise<string[]> {
  const rows: { id: string }[] = await ds.query(`SELECT id FROM messages WHERE search_vector IS DISTINCT FROM ${vector}`);
  return rows.map((r) => r.id);
}

async function inTransaction(ds: DataSource, fn: (q: QueryRunner) => Promise<void>): Promise<void> {
  const q = ds.createQueryRunner();
  try {
    await q.startTransaction();
    await fn(q);
    await q.commitTransaction();
  } finally {
    if (q.isTransactionActive) await q.rollbackTransaction();
    await q.release();
  }
}

async function outsideTransaction(ds: DataSource, fn: (q: QueryRunner) => Promise<void>): Promise<void> {
  const q = ds.createQueryRunner();
  try {
    await fn(q);
  } finally {
    await q.release();
  }
}

/** Polls `done` (every 20 ms, at most 10 s). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition never held');
}

const insertMessages = (ds: DataSource, sessionId: string, n: number) =>
  ds.query(
    `INSERT INTO messages (session_id, role, content)
     SELECT $1, 'USER', 'line ' || i || ' about ' || (ARRAY['apples', 'rivers', 'stones'])[1 + i % 3] || repeat(' and more', i % 7)
     FROM generate_series(1, $2::int) i`,
    [sessionId, n],
  );

describe('the stored search vector', () => {
  it('is backfilled on a table in use, in batches, without blocking its writes, then indexed', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const session = await f.session(await f.user());
      const migration = new MessageSearchVector1796530286950(2);
      // The table as the previous migrations left it, holding messages without vectors.
      await inTransaction(ds, (q) => migration.down(q));
      await insertMessages(ds, session.id, 3000);
      const [old] = await ds.query(`SELECT id FROM messages ORDER BY content LIMIT 1`);

      // The open writer's session: writers of one session wait for each other at its message count.
      const held = await f.session(await f.user());
      const insert = (content: string, into = session) =>
        `INSERT INTO messages (session_id, role, content) VALUES ('${into.id}', 'USER', '${content}')`;
      // A writer whose transaction stays open while the migration starts: adding the column waits for it.
      const writer = ds.createQueryRunner();
      const migrator = ds.createQueryRunner();
      const bystander = ds.createQueryRunner();
      try {
        await writer.startTransaction();
        await writer.query(insert('written before the build', held));
        const pid = (await migrator.query('SELECT pg_backend_pid() AS pid'))[0].pid;
        const built = migration.up(migrator);
        await until(async () => {
          const [row] = await bystander.query(`SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = $1`, [pid]);
          return row?.wait_event_type === 'Lock' && /ALTER TABLE/.test(row.query);
        });
        // Other writers go on meanwhile: the waiting ALTER gives way within a second, again and again.
        await bystander.query('SET statement_timeout = 3000');
        for (let i = 0; i < 3; i++) {
          await bystander.query(insert('written during the build'));
          await bystander.query(`UPDATE messages SET content = content || ' near the build' WHERE id = $1`, [old.id]);
        }
        await bystander.query('RESET statement_timeout');
        await writer.commitTransaction();
        await built;
      } finally {
        if (writer.isTransactionActive) await writer.rollbackTransaction();
        await Promise.all([writer.release(), migrator.release(), bystander.release()]);
      }

      expect(await staleVectors(ds, PLAIN_VECTOR)).toEqual([]);
      const [column] = await ds.query(`SELECT is_nullable FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'search_vector'`);
      expect(column.is_nullable).toBe('NO');
      const indexes = await ds.query(
        `SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relname IN ('messages_search_vector_idx', 'messages_content_search_idx')`,
      );
      expect(indexes).toEqual([{ relname: 'messages_search_vector_idx', indisvalid: true }]);
      expect(await ds.query(`SELECT conname FROM pg_constraint WHERE conname = 'messages_search_vector_set'`)).toEqual([]);
      expect(await pendingSchemaDiff(ds)).toEqual({ up: [], down: [] });
      const found = await ds.query(`SELECT content FROM messages WHERE search_vector @@ websearch_to_tsquery('english', 'build') ORDER BY 1`);
      expect(found.map((r: { content: string }) => r.content)).toEqual([
        expect.stringMatching(/ near the build near the build near the build$/),
        'written before the build',
        ...Array(3).fill('written during the build'),
      ]);
    }, 4);
  });

  it('waits for rows another transaction holds, and fills them once it lets go', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const session = await f.session(await f.user());
      // Rows without vectors, as an interrupted backfill leaves them.
      await ds.query(`ALTER TABLE messages ALTER COLUMN search_vector DROP NOT NULL`);
      await ds.query(`ALTER TABLE messages DISABLE TRIGGER messages_search_vector_insert`);
      await insertMessages(ds, session.id, 400);
      await ds.query(`ALTER TABLE messages ENABLE TRIGGER messages_search_vector_insert`);
      expect((await staleVectors(ds)).length).toBe(400);

      const locker = ds.createQueryRunner();
      const backfiller = ds.createQueryRunner();
      try {
        await locker.startTransaction();
        const held: { id: string }[] = await locker.query(`SELECT id FROM messages ORDER BY ctid DESC LIMIT 2 FOR UPDATE`);
        let finished = false;
        const done = backfillSearchVectors(backfiller, 1).then(() => (finished = true));
        await until(async () => (await staleVectors(ds)).length === 2);
        expect((await staleVectors(ds)).sort()).toEqual(held.map((r) => r.id).sort());
        expect(finished).toBe(false);
        // The holder updates one of them (the trigger writes its vector) and leaves the other as it was.
        await locker.query(`UPDATE messages SET role = 'ASSISTANT' WHERE id = $1`, [held[0].id]);
        await locker.commitTransaction();
        await done;
      } finally {
        if (locker.isTransactionActive) await locker.rollbackTransaction();
        await Promise.all([locker.release(), backfiller.release()]);
      }
      expect(await staleVectors(ds)).toEqual([]);
    }, 3);
  });

  it('follows every write of the content, whatever writes it, and cannot be written apart from it', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const session = await f.session(await f.user());
      const content = fc.oneof(text(12), fc.string({ maxLength: 40 })).map((s) => s.replace(/\u0000/g, ''));
      const write = fc.oneof(
        content.map((c) => ({ sql: `UPDATE messages SET content = $2 WHERE id = $1`, value: c })),
        // What appending to a streaming message does.
        content.map((c) => ({ sql: `UPDATE messages SET content = content || $2::text WHERE id = $1`, value: c })),
        content.map((c) => ({ sql: `UPDATE messages SET search_vector = to_tsvector('simple', $2::text) WHERE id = $1`, value: c })),
        content.map((c) => ({ sql: `UPDATE messages SET search_vector = NULL, content = $2 WHERE id = $1`, value: c })),
        content.map((c) => ({ orm: c })),
        fc.constant({ sql: `UPDATE messages SET role = 'TOOL' WHERE id = $1 AND $2::text IS NOT NULL`, value: '' }),
      );
      await fc.assert(
        fc.asyncProperty(content, fc.array(write, { maxLength: 6 }), async (first, writes) => {
          const message = await f.message(session, { content: first });
          expect(await staleVectors(ds)).toEqual([]);
          for (const w of writes) {
            if ('orm' in w) await ds.getRepository(Message).save(Object.assign(message, { content: w.orm }));
            else await ds.query(w.sql, [message.id, w.value]);
            expect(await staleVectors(ds)).toEqual([]);
          }
          await ds.query(`DELETE FROM messages WHERE id = $1`, [message.id]);
        }),
        { numRuns: 40 },
      );
    });
  });
});

describe('the escaped search text (migration SearchEscapedText)', () => {
  /** Each message's row version: a row the migration rewrote has another. */
  const versions = async (ds: DataSource): Promise<Map<string, string>> =>
    new Map(((await ds.query(`SELECT id, xmin::text AS v FROM messages`)) as { id: string; v: string }[]).map((r) => [r.id, r.v]));
  const indexes = async (ds: DataSource) =>
    ds.query(
      `SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relname IN ('sessions_title_search_idx', 'sessions_title_text_search_idx') ORDER BY 1`,
    );

  it('rewrites exactly the vectors its definition changes, indexes titles by it, and can be run again and reverted', async () => {
    await onFreshDatabase(async ({ ds, f }) => {
      const migration = new SearchEscapedText1796800000000(1);
      // The database as the earlier migrations left it: vectors and the title index of the plain text.
      await inTransaction(ds, (q) => migration.down(q));
      const session = await f.session(await f.user());
      const contents = fc
        .sample(fc.oneof(text(12), fc.string({ maxLength: 30 }), fc.constantFrom('<a zebras >', 'use <div class=zebras> here', '&zebras; too')), 300)
        .map((c) => c.replace(/\u0000/g, ''));
      await ds.query(`INSERT INTO messages (session_id, role, content) SELECT $1, 'USER', c FROM unnest($2::text[]) AS c`, [session.id, contents]);
      const changed = await staleVectors(ds);
      expect(changed.length).toBeGreaterThanOrEqual(3);
      expect(await staleVectors(ds, PLAIN_VECTOR)).toEqual([]);
      const before = await versions(ds);

      await outsideTransaction(ds, (q) => migration.up(q));
      expect(await staleVectors(ds)).toEqual([]);
      // Only the rows whose vector changed were written.
      const after = await versions(ds);
      const rewritten = [...after].filter(([id, v]) => before.get(id) !== v).map(([id]) => id);
      expect(rewritten.sort()).toEqual(changed.sort());
      expect(await indexes(ds)).toEqual([{ relname: 'sessions_title_text_search_idx', indisvalid: true }]);
      expect(await pendingSchemaDiff(ds)).toEqual({ up: [], down: [] });
      const found = await ds.query(`SELECT content FROM messages WHERE search_vector @@ websearch_to_tsquery('english', 'zebras')`);
      expect(found.map((r: { content: string }) => r.content)).toEqual(expect.arrayContaining(['<a zebras >', 'use <div class=zebras> here', '&zebras; too']));

      // Run again (an interrupted run resumes): nothing is left to write.
      await outsideTransaction(ds, (q) => migration.up(q));
      expect(await versions(ds)).toEqual(after);

      await inTransaction(ds, (q) => migration.down(q));
      expect(await staleVectors(ds, PLAIN_VECTOR)).toEqual([]);
      expect(await indexes(ds)).toEqual([{ relname: 'sessions_title_search_idx', indisvalid: true }]);
    });
  });
});

describe('search statements', () => {
  it('are planned for their search text on every execution, never kept as a generic plan', async () => {
    const client = new PreparingClient({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const viewer = { id: '00000000-0000-4000-8000-000000000000', isAdmin: false };
      const filter = parseSessionFilter({ search: 'apple' });
      const statements = [
        searchPageStatement(viewer, { text: 'apple', filter, size: 20, after: null, before: null, backward: false }, true),
        sessionsPageStatement(viewer, { filter, order: SESSION_ORDERS.CREATED_AT_DESC, size: 20, after: null, before: null, backward: false }, { withCount: true, withOwner: false }),
      ];
      for (const { sql, params } of statements) {
        // Past the five executions after which PostgreSQL may keep a generic plan.
        for (let i = 0; i < 7; i++) await client.query(sql, params);
      }
      await client.query('SELECT $1::int AS v', [1]);
      const unnamed = Client.prototype.query as (this: Client, text: string) => Promise<{ rows: { statement: string }[] }>;
      const { rows } = await unnamed.call(client, `SELECT statement FROM pg_prepared_statements`);
      // Only the statement without a search was kept.
      expect(rows.map((r) => r.statement)).toEqual(['SELECT $1::int AS v']);
    } finally {
      await client.end();
    }
  });
});
