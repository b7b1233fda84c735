import type { ActivityBucket, NodeSyncSummary, SyncStatus, TimeBucket } from '../generated/schema-types';
import { Context } from '../context';
import { parseSessionFilter, SessionFilterInput } from '../sessions/session.filter';
import { bucketRange } from './activity.buckets';
import { activityStatement } from './activity.sql';
import { nodeSyncSummaryStatement, SUMMARY_STATUSES } from './node-sync-summary.sql';

/**
 * Activity per time bucket in the viewer's sessions (see `activityStatement`): one statement,
 * every bucket present; a reversed range or more than `MAX_BUCKETS` is `BAD_USER_INPUT`.
 */
export async function activity(
  ctx: Context,
  args: { from: Date; to: Date; bucket: TimeBucket; filter?: SessionFilterInput | null },
): Promise<ActivityBucket[]> {
  const range = bucketRange(args.from, args.to, args.bucket);
  const filter = parseSessionFilter(args.filter);
  const { sql, params } = activityStatement(ctx.viewer, range, filter);
  return ctx.dataSource.query(sql, params);
}

/** Sync health per mesh node over the viewer's sessions under the filter: one statement. */
export async function nodeSyncSummary(ctx: Context, raw: SessionFilterInput | null | undefined): Promise<NodeSyncSummary[]> {
  const filter = parseSessionFilter(raw);
  const { sql, params } = nodeSyncSummaryStatement(ctx.viewer, filter);
  const rows: (Record<SyncStatus, number> & { nodeId: string; oldestPendingSince: string | null; lastReportAt: string })[] =
    await ctx.dataSource.query(sql, params);
  const statuses = Object.keys(SUMMARY_STATUSES) as SyncStatus[];
  return rows.map((row) => ({
    nodeId: row.nodeId,
    counts: statuses.map((status) => ({ status, count: row[status] })),
    oldestPendingSince: row.oldestPendingSince,
    lastReportAt: row.lastReportAt,
  }));
}
