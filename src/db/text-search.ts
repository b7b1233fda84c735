import { PLAN_FOR_VALUES } from './prepared-statements';

/**
 * Full-text search, stated once. The text search configuration and the indexed vectors are fixed:
 * a message's vector is stored, `messages.search_vector` (`searchVector(content)`, kept by a
 * trigger on every write of the content: migrations MessageSearchVector, SearchEscapedText),
 * under a GIN index; a session title's is the expression `searchVector("title")` under a GIN
 * index on that expression (migration SearchEscapedText), which PostgreSQL uses only for a
 * condition written with the same expression. The database computes the vectors itself, so every
 * write path (the ORM, raw SQL, `hub seed`, imports, appends to a streaming message) keeps them
 * and the indexes current.
 *
 * A text is searched as plain text whatever markup it holds. PostgreSQL's default parser reads
 * `<…>` as an HTML tag and `&…;` as an entity and indexes neither, so `<a zebras >` held no word.
 * Search parses the text with HTML's special characters escaped (`searchableText`): `&lt;` is an
 * entity token, no tag forms, every word is indexed at the position it had. The highlight marks
 * that same text, so what it marks is what matched.
 */
export const SEARCH_CONFIG = 'english';

/** The longest search text accepted (`BAD_USER_INPUT` beyond). */
export const MAX_SEARCH_LENGTH = 256;

/** A text as search parses it and its highlight shows it: HTML's special characters escaped. */
export const searchableText = (expression: string) => htmlEscapeSql(expression);

/** The indexed vector of a text column (session titles; a message's stored vector is this of its content). */
export const searchVector = (column: string) => `to_tsvector('${SEARCH_CONFIG}'::regconfig, ${searchableText(column)})`;

/**
 * The stored vector of the messages aliased `m`: matching, rechecking and ranking read it as it is,
 * where the expression would parse every matching message's content again (measured: 2.1 s for a
 * common word at 400k messages, most of it in `to_tsvector`).
 */
export const messageVector = (m: string) => `${m}.search_vector`;

/**
 * A search text as a `tsquery` (`websearch_to_tsquery`: words, "phrases", -exclusions, OR). It
 * accepts any text: unbalanced quotes or stray operators are read as words, never as an error. A
 * text of stop words only is the empty query, which matches nothing.
 */
export const searchQuery = (param: string) => `websearch_to_tsquery('${SEARCH_CONFIG}'::regconfig, ${param}::text)`;

/**
 * Whether a vector (`searchVector(…)`, `messageVector(…)`) matches a query (`searchQuery`), through
 * its index. A statement holding it is planned for its search text every time (PLAN_FOR_VALUES):
 * how many rows a text matches decides the plan.
 */
export const matchesSearch = (vector: string, query: string) => `${vector} @@ ${query} ${PLAN_FOR_VALUES}`;

/** HTML's five special characters escaped, in SQL: the text becomes inert markup. */
export function htmlEscapeSql(expression: string): string {
  const pairs: [string, string][] = [['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["''", '&#39;']];
  return pairs.reduce((sql, [from, to]) => `replace(${sql}, '${from}', '${to}')`, expression);
}

/**
 * A snippet of `column` with the query's matches in `<mark>…</mark>`, safe to insert as HTML:
 * the text is escaped first, then `ts_headline` marks words in it. Escaped characters become
 * entity tokens to the parser (`&lt;` is one token, never a word), so a mark never lands inside
 * one, and the only markup in the result is the marks themselves.
 */
export function highlightSql(column: string, query: string): string {
  const options = 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "';
  return `ts_headline('${SEARCH_CONFIG}'::regconfig, ${searchableText(column)}, ${query}, '${options}')`;
}
