import fc from 'fast-check';
import { RESTART_POLICY, RestartBackoff } from '../../src/cli/restart-backoff';

/** The cluster's restart waits (src/cli/restart-backoff.ts); the process test is test/scale/processes/cluster.test.ts. */

const { baseMs, maxMs, stableMs } = RESTART_POLICY;

it('doubles per slot while its workers die young, caps at the maximum, and starts over after a stable run', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ slot: fc.nat(2), upMs: fc.oneof(fc.nat(stableMs - 1), fc.integer({ min: stableMs, max: 10 * stableMs })) }), { maxLength: 60 }),
      (exits) => {
        const backoff = new RestartBackoff();
        const streak = new Map<number, number>();
        for (const { slot, upMs } of exits) {
          const expected = upMs >= stableMs ? 1 : (streak.get(slot) ?? 0) + 1;
          streak.set(slot, expected);
          const delay = backoff.delayFor(slot, upMs);
          expect(delay).toBe(Math.min(maxMs, baseMs * 2 ** (expected - 1)));
          expect(delay).toBeGreaterThanOrEqual(baseMs);
          expect(delay).toBeLessThanOrEqual(maxMs);
        }
      },
    ),
  );
});

it('keeps a crash loop to one restart per maximum wait, however long it lasts', () => {
  const backoff = new RestartBackoff();
  const delays = Array.from({ length: 2000 }, () => backoff.delayFor(0, 5));
  expect(delays.slice(0, 8)).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000]);
  expect(delays.slice(7).every((d) => d === maxMs)).toBe(true);
  // A crash of another slot meanwhile is its first.
  expect(backoff.delayFor(1, 5)).toBe(baseMs);
});
