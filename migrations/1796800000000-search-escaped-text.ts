import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillSearchVectors, indexConcurrently, withBuildSettings } from './support/online-ddl';

/** HTML's five special characters escaped, as src/db/text-search.ts states them (a migration states what it built). */
const escaped = (column: string) =>
  [['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["''", '&#39;']].reduce(
    (sql, [from, to]) => `replace(${sql}, '${from}', '${to}')`,
    column,
  );

/** A text's vector before this migration, and after it. */
const VECTORS = {
  plain: (column: string) => `to_tsvector('english'::regconfig, ${column})`,
  escaped: (column: string) => `to_tsvector('english'::regconfig, ${escaped(column)})`,
};
type Vector = keyof typeof VECTORS;

/** The title index of each definition (the entity `Session` names the current one). */
const TITLE_INDEXES: Record<Vector, string> = { plain: 'sessions_title_search_idx', escaped: 'sessions_title_text_search_idx' };

/** Only a content holding one of the escaped characters can have another vector. */
const MAY_DIFFER = `content ~ '[&<>"'']'`;

/**
 * Search reads a text's words whatever markup it holds. PostgreSQL's default parser reads `<…>`
 * as an HTML tag and `&…;` as an entity, and indexes neither: a message `<a zebras >` or
 * `use <div class=zebras>` was not found by "zebras" (a generated content found it). Search now
 * parses a text with HTML's special characters escaped, the text its highlight already marked
 * (`ts_headline` over the escaped text): `&lt;` is an entity token, so no tag forms and every
 * word is indexed, at the positions it had (an entity takes none).
 *
 * 1. The trigger that writes `messages.search_vector` computes the new vector: every write from
 *    now on stores it.
 * 2. The messages whose stored vector differs are written again, in batches of pages on a
 *    database in use (`backfillSearchVectors`: rows another transaction holds are skipped, then
 *    swept up), only those whose content holds one of the five characters.
 * 3. Titles: a GIN index on the new expression, built CONCURRENTLY (one left invalid by an
 *    interrupted run is rebuilt), then the old one dropped CONCURRENTLY. A server serves after
 *    its migrations, so this release always finds its index; an older release still serving
 *    meanwhile reads the old expression, and scans titles once its index is gone.
 * Each step can be run again, so an interrupted migration resumes.
 */
export class SearchEscapedText1796800000000 implements MigrationInterface {
  name = 'SearchEscapedText1796800000000';
  transaction = false as const;

  /** `pagesPerBatch`: heap pages per backfill transaction. */
  constructor(private readonly pagesPerBatch = 100) {}

  public async up(q: QueryRunner): Promise<void> {
    await withBuildSettings(q, async () => {
      await defineMessageVector(q, 'escaped');
      await backfillSearchVectors(q, this.pagesPerBatch, staleUnder('escaped'));
      await indexConcurrently(q, TITLE_INDEXES.escaped, 'sessions', `gin (${VECTORS.escaped('title')})`);
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "${TITLE_INDEXES.plain}"`);
    });
  }

  // Reverting runs inside a transaction (TypeORM ignores `transaction` there): plain DDL.
  public async down(q: QueryRunner): Promise<void> {
    await defineMessageVector(q, 'plain');
    await q.query(`UPDATE messages SET search_vector = NULL WHERE ${staleUnder('plain')}`);
    await q.query(`CREATE INDEX IF NOT EXISTS "${TITLE_INDEXES.plain}" ON sessions USING gin (${VECTORS.plain('title')})`);
    await q.query(`DROP INDEX IF EXISTS "${TITLE_INDEXES.escaped}"`);
  }
}

/** The function MessageSearchVector's triggers call, writing the vector of `vector`'s definition. */
async function defineMessageVector(q: QueryRunner, vector: Vector): Promise<void> {
  await q.query(`CREATE OR REPLACE FUNCTION hub_message_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_vector := ${VECTORS[vector]('NEW.content')};
      RETURN NEW;
    END $$`);
}

/** A message whose stored vector is not its content's under `vector`'s definition. */
const staleUnder = (vector: Vector) => `${MAY_DIFFER} AND search_vector IS DISTINCT FROM ${VECTORS[vector]('content')}`;
