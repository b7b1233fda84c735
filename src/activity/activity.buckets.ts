import type { TimeBucket } from '../generated/schema-types';
import { badField } from '../errors';

/** The most buckets one `activity` answer may hold (`BAD_USER_INPUT` beyond). */
export const MAX_BUCKETS = 1000;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// 1970-01-01 was a Thursday; Monday 1970-01-05 is the origin of UTC weeks (ISO weeks).
const FIRST_MONDAY = 4 * DAY;

/** Every width of the schema's `TimeBucket` in milliseconds: UTC has no daylight saving, so each is fixed. */
const WIDTH_MS = { MINUTE, HOUR: 60 * MINUTE, DAY, WEEK: 7 * DAY } satisfies Record<TimeBucket, number>;

/** The buckets of one range: the first one's start, the width and how many there are. */
export interface BucketRange {
  origin: Date;
  widthMs: number;
  count: number;
  from: Date;
  to: Date;
}

/** The start of the bucket that holds `ms`. */
function bucketStart(ms: number, width: number): number {
  const origin = width === WIDTH_MS.WEEK ? FIRST_MONDAY : 0;
  return ms - (((ms - origin) % width) + width) % width;
}

/**
 * The buckets from the one holding `from` to the one holding the last millisecond before `to`,
 * checked at the edge: `to` must be after `from`, and there may be at most `MAX_BUCKETS`.
 */
export function bucketRange(from: Date, to: Date, bucket: TimeBucket): BucketRange {
  if (!(to.getTime() > from.getTime())) throw badField('to', 'must be after from');
  const widthMs = WIDTH_MS[bucket];
  const first = bucketStart(from.getTime(), widthMs);
  const last = bucketStart(to.getTime() - 1, widthMs);
  const count = (last - first) / widthMs + 1;
  if (count > MAX_BUCKETS) {
    throw badField('to', `the range holds ${count} ${bucket} buckets; at most ${MAX_BUCKETS} are allowed: use a wider bucket or a shorter range`);
  }
  return { origin: new Date(first), widthMs, count, from, to };
}
