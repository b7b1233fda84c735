import { badUserInput, FieldProblem } from '../errors';
import { isStorableText } from '../common/text';
import type { DeletedFilter, SessionFilter as SessionFilterInput } from '../generated/schema-types';
import { isUuid, normalizeId } from '../ids';
import { SqlParams } from '../db/sql-params';
import { matchesSearch, MAX_SEARCH_LENGTH, messageVector, searchQuery, searchVector } from '../db/text-search';

/** `SessionFilter` as GraphQL hands it over (the generated input type): omitted and explicit
 * `null` both mean "any". */
export type { DeletedFilter, SessionFilterInput };

/**
 * What each `DeletedFilter` keeps, as SQL on a sessions alias (null: no condition) and as the same
 * rule for a session whose deletion is known (a row in hand, a purge notification). Every value of
 * the schema's enum is listed, so a new one is a type error here until it is handled.
 */
const DELETED_RULES = {
  ACTIVE: { sql: (s) => `${s}.deleted_at IS NULL`, keeps: (deleted) => !deleted },
  DELETED: { sql: (s) => `${s}.deleted_at IS NOT NULL`, keeps: (deleted) => deleted },
  ALL: { sql: () => null, keeps: () => true },
} satisfies Record<DeletedFilter, { sql: (s: string) => string | null; keeps: (deleted: boolean) => boolean }>;

/** A checked filter; `key` is its canonical form, for cursors and loader keys. */
export interface SessionFilter {
  userId?: string;
  isSyncing?: boolean;
  skillId?: string;
  nodeId?: string;
  /** Full-text search over the title and the listed messages (src/db/text-search.ts). */
  search?: string;
  deleted: DeletedFilter;
  key: string;
}

export const LIVE_SESSIONS: SessionFilter = { deleted: 'ACTIVE', key: 'ACTIVE' };

/** Checks a filter at the edge, so malformed ids never reach the database. */
export function parseSessionFilter(raw: SessionFilterInput | null | undefined, field = 'filter'): SessionFilter {
  if (!raw) return LIVE_SESSIONS;
  const problems: FieldProblem[] = [];
  const filter: SessionFilter = { deleted: raw.deleted ?? 'ACTIVE', key: '' };
  if (raw.userId != null) {
    if (isUuid(raw.userId)) filter.userId = normalizeId(raw.userId);
    else problems.push({ field: `${field}.userId`, message: 'must be a UUID' });
  }
  if (raw.skillId != null) {
    if (isUuid(raw.skillId)) filter.skillId = normalizeId(raw.skillId);
    else problems.push({ field: `${field}.skillId`, message: 'must be a UUID' });
  }
  if (raw.nodeId != null) {
    if (!isStorableText(raw.nodeId)) {
      problems.push({ field: `${field}.nodeId`, message: 'must be text without NUL characters or lone surrogates' });
    } else if (raw.nodeId.length >= 1 && raw.nodeId.length <= 128) filter.nodeId = raw.nodeId;
    else problems.push({ field: `${field}.nodeId`, message: 'must be 1 to 128 characters' });
  }
  if (raw.isSyncing != null) filter.isSyncing = raw.isSyncing;
  if (raw.search != null) {
    const problem = searchTextProblem(raw.search);
    if (problem) problems.push({ field: `${field}.search`, message: problem });
    else filter.search = raw.search;
  }
  if (problems.length) throw badUserInput(problems);
  filter.key = JSON.stringify([filter.deleted, filter.userId, filter.isSyncing, filter.skillId, filter.nodeId, filter.search]);
  return filter;
}

/** What is wrong with a full-text search text, if anything: any syntax is accepted, not any size. */
export function searchTextProblem(text: string): string | null {
  if (!isStorableText(text)) return 'must be text without NUL characters or lone surrogates';
  if (text.length > MAX_SEARCH_LENGTH) return `must be at most ${MAX_SEARCH_LENGTH} characters`;
  return null;
}

/** The filter as SQL conditions on the sessions alias `s`. */
export function filterConditions(filter: SessionFilter, s: string, params: SqlParams): string[] {
  const conditions: string[] = [];
  const deleted = DELETED_RULES[filter.deleted].sql(s);
  if (deleted) conditions.push(deleted);
  if (filter.userId !== undefined) conditions.push(`${s}.user_id = ${params.add(filter.userId)}::uuid`);
  // A literal, not a parameter: `WHERE s.is_syncing` lets the planner use the partial index.
  if (filter.isSyncing !== undefined) conditions.push(filter.isSyncing ? `${s}.is_syncing` : `NOT ${s}.is_syncing`);
  if (filter.skillId !== undefined) {
    conditions.push(
      `EXISTS (SELECT 1 FROM session_skills fss WHERE fss.session_id = ${s}.id AND fss.skill_id = ${params.add(filter.skillId)}::uuid)`,
    );
  }
  if (filter.nodeId !== undefined) {
    conditions.push(
      `EXISTS (SELECT 1 FROM session_node_sync fns WHERE fns.session_id = ${s}.id AND fns.node_id = ${params.add(filter.nodeId)})`,
    );
  }
  if (filter.search !== undefined) {
    // One uncorrelated set of matching session ids (titles, and the messages each session lists:
    // a live one's live messages, a deleted one's deleted with it), each side found through its
    // GIN index; a condition correlated to each session would compute the vectors of every
    // message of every session scanned instead.
    const query = searchQuery(params.add(filter.search));
    conditions.push(
      `${s}.id IN (SELECT fst.id FROM sessions fst WHERE ${matchesSearch(searchVector('fst.title'), query)}
        UNION ALL SELECT fsm.session_id FROM messages fsm JOIN sessions fsms ON fsms.id = fsm.session_id
        WHERE ${matchesSearch(messageVector('fsm'), query)} AND fsm.deleted_at IS NOT DISTINCT FROM fsms.deleted_at)`,
    );
  }
  return conditions;
}

/** The parts of a filter decided from what is known of a session without a query: whether it is
 * deleted, its owner, whether it is syncing (live updates check rows and purge notifications). */
export function matchesKnown(filter: SessionFilter, known: { deleted: boolean; ownerId: string; isSyncing: boolean }): boolean {
  if (!DELETED_RULES[filter.deleted].keeps(known.deleted)) return false;
  if (filter.userId !== undefined && known.ownerId !== filter.userId) return false;
  if (filter.isSyncing !== undefined && known.isSyncing !== filter.isSyncing) return false;
  return true;
}
