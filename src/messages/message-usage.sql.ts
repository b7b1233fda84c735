import type { TokenUsage } from '../generated/schema-types';
import { Viewer } from '../auth/viewer';
import { SqlParams } from '../db/sql-params';
import { RelationColumn } from '../sessions/session.relations';
import { sessionScope } from '../sessions/session.scope';
import { listedMessages } from './message.sql';

/** GraphQL's largest Int: a sum past it is reported as it (the schema says so) rather than failing the field. */
const INT_MAX = 2_147_483_647;
const sums = (alias: string) =>
  `LEAST(COALESCE(sum(${alias}.input_tokens), 0), ${INT_MAX}) AS input, LEAST(COALESCE(sum(${alias}.output_tokens), 0), ${INT_MAX}) AS output`;

const toUsage = (input: unknown, output: unknown): TokenUsage => ({ inputTokens: Number(input ?? 0), outputTokens: Number(output ?? 0), model: null });

/** `Session.usage`: the tokens of the messages the session lists, summed, as a column of the relations statement. */
export const USAGE_COLUMN: RelationColumn<TokenUsage> = {
  sql: () => listedMessages((listed) => `(SELECT json_build_array(u.input, u.output) FROM (SELECT ${sums('m')} FROM messages m WHERE ${listed}) u)`),
  decode: (value) => {
    const [input, output] = (value as [number, number] | null) ?? [0, 0];
    return toUsage(input, output);
  },
};

/**
 * `User.usage` for many users in one statement: the tokens of the live messages of their live
 * sessions in the viewer's scope, summed per user (a user with none: zeros).
 */
export function usageByUserStatement(viewer: Viewer, userIds: readonly string[]): { sql: string; params: unknown[] } {
  const params = new SqlParams();
  const sql = `SELECT s.user_id AS id, ${sums('m')}
    FROM sessions s JOIN messages m ON m.session_id = s.id AND m.deleted_at IS NULL
    WHERE s.user_id = ANY(${params.add([...userIds])}::uuid[]) AND s.deleted_at IS NULL AND ${params.named(sessionScope(viewer, 's'))}
    GROUP BY s.user_id`;
  return { sql, params: params.values };
}

export const usageOfRow = (row: { input: unknown; output: unknown } | null | undefined): TokenUsage => toUsage(row?.input, row?.output);
