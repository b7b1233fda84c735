import { badUserInput, FieldProblem } from '../errors';
import { isStorableText } from '../common/text';
import { isUuid, normalizeId } from '../ids';
import { SqlParams } from '../pagination/sql-params';

export type DeletedFilter = 'ACTIVE' | 'DELETED' | 'ALL';

/** `SessionFilter` as GraphQL hands it over: omitted and explicit `null` both mean "any". */
export interface SessionFilterInput {
  userId?: string | null;
  isSyncing?: boolean | null;
  skillId?: string | null;
  nodeId?: string | null;
  deleted?: DeletedFilter | null;
}

/** A checked filter; `key` is its canonical form, for cursors and loader keys. */
export interface SessionFilter {
  userId?: string;
  isSyncing?: boolean;
  skillId?: string;
  nodeId?: string;
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
  if (problems.length) throw badUserInput(problems);
  filter.key = JSON.stringify([filter.deleted, filter.userId, filter.isSyncing, filter.skillId, filter.nodeId]);
  return filter;
}

/** The filter as SQL conditions on the sessions alias `s`. */
export function filterConditions(filter: SessionFilter, s: string, params: SqlParams): string[] {
  const conditions: string[] = [];
  if (filter.deleted === 'ACTIVE') conditions.push(`${s}.deleted_at IS NULL`);
  else if (filter.deleted === 'DELETED') conditions.push(`${s}.deleted_at IS NOT NULL`);
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
  return conditions;
}
