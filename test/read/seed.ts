import { DataSource } from 'typeorm';

/** Bulk inserts run without the server pool's statement timeout: on a loaded machine a seed of
 * thousands of rows may take longer than a request ever should, and it is setup, not a request. */
function untimed<T>(ds: DataSource, sql: string, params: unknown[]): Promise<T> {
  return ds.transaction(async (manager) => {
    await manager.query('SET LOCAL statement_timeout = 0');
    return manager.query(sql, params);
  });
}

/**
 * Set-based inserts for read tests that need many rows with controlled timestamps
 * (`INSERT … SELECT generate_series`), instead of one ORM save per row.
 */
export async function insertSessions(
  ds: DataSource,
  userId: string,
  count: number,
  options: { base?: Date; stepMs?: number; deletedAt?: Date | null; title?: string } = {},
): Promise<{ id: string; created_at: Date }[]> {
  const base = options.base ?? new Date(Date.UTC(2026, 0, 1));
  return untimed(
    ds,
    `INSERT INTO sessions (user_id, title, created_at, updated_at, deleted_at)
     SELECT $1, $2 || ' ' || i, t, t, $5::timestamptz
     FROM generate_series(1, $3::int) AS i, LATERAL (SELECT $4::timestamptz + i * ($6::int * interval '1 millisecond') AS t) ts
     RETURNING id, created_at`,
    [userId, options.title ?? 'Bulk', count, base.toISOString(), options.deletedAt?.toISOString() ?? null, options.stepMs ?? 1000],
  );
}

/** `perSession` messages in each session, `stepSeconds` (default 1) apart from `base`. */
export async function insertMessages(
  ds: DataSource,
  sessionIds: string[],
  perSession: number,
  options: { base?: Date; deletedAt?: Date | null; stepSeconds?: number } = {},
): Promise<void> {
  const base = options.base ?? new Date(Date.UTC(2026, 0, 1));
  await untimed(
    ds,
    `INSERT INTO messages (session_id, role, content, created_at, deleted_at)
     SELECT s.id, (ARRAY['USER','ASSISTANT']::message_role[])[1 + i % 2], 'Message ' || i, $3::timestamptz + i * $5::int * interval '1 second', $4::timestamptz
     FROM unnest($1::uuid[]) AS s(id), generate_series(1, $2::int) AS i`,
    [sessionIds, perSession, base.toISOString(), options.deletedAt?.toISOString() ?? null, options.stepSeconds ?? 1],
  );
}
