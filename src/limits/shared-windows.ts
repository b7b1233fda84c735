import { DataSource } from 'typeorm';
import { sqlScope } from '../db/sql-counter';

/** The outcome of one charge on a shared window. */
export interface WindowCharge {
  accepted: boolean;
  /** The window as it stands after the charge: its start (ms) and count. */
  startedAt: number;
  count: number;
  /** Seconds until the key's window ends (for `retry-after`); at least 1. */
  retryAfterSeconds: number;
}

/** Fixed windows kept where every process sees them (RequesterLimits' per-minute charges). */
export interface SharedWindows {
  /** Adds `amount` to the key's window when it fits under `max`; otherwise adds nothing. */
  charge(limit: string, key: string, max: number, windowMs: number, now: number, amount?: number): Promise<WindowCharge>;
}

/** At most one sweep of a limit's ended windows per this interval, per process. */
const SWEEP_EVERY_MS = 60_000;

/**
 * Fixed windows in PostgreSQL (`hub_requester_windows`, UNLOGGED: a crash forgets the current
 * minute, which only lets requesters start afresh). One statement per charge, an upsert that
 * starts a new window when the old one ended and otherwise adds the amount when it fits (a refused
 * charge adds nothing; `accepted` says which). Times are the calling process's clock, so every process
 * (and a test's clock) measures windows alike. The statement is bookkeeping, not the request's
 * data: it is not counted in the request's SQL statistics. Ended windows are swept at most once a
 * minute per process and limit, and a sweep deletes only windows of the limit being charged, begun
 * an hour before the charge: a caller whose clock runs ahead of the others (a test's) cannot end
 * another limit's windows, which would let its requesters start afresh.
 */
export function postgresWindows(dataSource: DataSource): SharedWindows {
  const lastSweep = new Map<string, number>();
  return {
    async charge(limit, key, max, windowMs, now, amount = 1) {
      const rows: { accepted: boolean; count: number; started_ms: number }[] = await sqlScope.exit(() =>
        dataSource.query(
          `INSERT INTO hub_requester_windows AS w (limit_name, key, started_at, count, accepted)
           VALUES ($1, $2, to_timestamp($3::float8 / 1000), CASE WHEN $6::int <= $5::int THEN $6::int ELSE 0 END, $6::int <= $5::int)
           ON CONFLICT (limit_name, key) DO UPDATE SET
             started_at = CASE WHEN w.started_at <= EXCLUDED.started_at - make_interval(secs => $4::float8 / 1000)
                               THEN EXCLUDED.started_at ELSE w.started_at END,
             count = CASE WHEN w.started_at <= EXCLUDED.started_at - make_interval(secs => $4::float8 / 1000) THEN EXCLUDED.count
                          WHEN w.count + $6::int <= $5::int THEN w.count + $6::int ELSE w.count END,
             accepted = CASE WHEN w.started_at <= EXCLUDED.started_at - make_interval(secs => $4::float8 / 1000) THEN EXCLUDED.accepted
                             ELSE w.count + $6::int <= $5::int END
           RETURNING accepted, count, extract(epoch FROM started_at)::float8 * 1000 AS started_ms`,
          [limit, key, now, windowMs, max, amount],
        ),
      );
      const [{ accepted, count, started_ms }] = rows;
      if (now - (lastSweep.get(limit) ?? 0) > SWEEP_EVERY_MS) {
        lastSweep.set(limit, now);
        void sqlScope
          .exit(() =>
            dataSource.query(`DELETE FROM hub_requester_windows WHERE limit_name = $1 AND started_at < to_timestamp($2::float8 / 1000)`, [
              limit,
              now - Math.max(windowMs, 3_600_000),
            ]),
          )
          .catch(() => undefined);
      }
      return { accepted, count, startedAt: Number(started_ms), retryAfterSeconds: Math.max(1, Math.ceil((Number(started_ms) + windowMs - now) / 1000)) };
    },
  };
}
