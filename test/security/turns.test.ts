/**
 * Turns (src/limits/turns.ts), the per-viewer bound on replays running at once: a model check
 * with generated schedules. At most `max` run at once per key, in arrival order; a waiter keeps
 * waiting while turns end, and gives up only when none ended for `waitMs`; keys do not share turns.
 */
import fc from 'fast-check';
import { Turns } from '../../src/limits/turns';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('runs at most `max` per key at once, in arrival order, each once the line moves to it', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.record({ key: fc.constantFrom('a', 'b'), ms: fc.integer({ min: 0, max: 8 }) }), { minLength: 1, maxLength: 16 }), async (max, runs) => {
      const turns = new Turns(max);
      const running = { a: 0, b: 0 };
      let overMax = false;
      const started: Record<string, number[]> = { a: [], b: [] };
      const outcomes = await Promise.all(
        runs.map(async ({ key, ms }, i) => {
          // Each run is short, so the line always moves well within the wait.
          const end = await turns.take(key, 5_000);
          if (!end) return 'gave up';
          started[key].push(i);
          running[key] += 1;
          overMax ||= running[key] > max;
          await sleep(ms);
          running[key] -= 1;
          end();
          end(); // idempotent
          return 'ran';
        }),
      );
      expect({ overMax, outcomes }).toEqual({ overMax: false, outcomes: runs.map(() => 'ran') });
      for (const key of ['a', 'b'] as const) expect(started[key]).toEqual(runs.flatMap((r, i) => (r.key === key ? [i] : [])));
      expect([turns.load('a'), turns.load('b')]).toEqual([{ running: 0, waiting: 0 }, { running: 0, waiting: 0 }]);
    }),
    { numRuns: 60 },
  );
});

it('gives up the waiting ones when the turns are held and none ends for `waitMs`, and not before', async () => {
  const turns = new Turns(2);
  const held = [await turns.take('viewer', 50), await turns.take('viewer', 50)];
  const started = Date.now();
  const waiting = [turns.take('viewer', 100), turns.take('viewer', 100)];
  // The line moves once at 60 ms: the first waiter runs, the second waits 100 ms again from then.
  await sleep(60);
  held[0]!();
  const first = await waiting[0];
  expect(first).toBeDefined();
  expect(await waiting[1]).toBeUndefined();
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  expect(turns.load('viewer')).toEqual({ running: 2, waiting: 0 });
  first!();
  held[1]!();
  expect(turns.load('viewer')).toEqual({ running: 0, waiting: 0 });
  // Another viewer was never in that line.
  const other = await turns.take('other', 1);
  expect(other).toBeDefined();
  other!();
});

it('a turn that ends without doing its work (a stalled reader) passes on but does not restart the wait', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), async (max, waiters) => {
      const turns = new Turns(max);
      const waitMs = 100;
      const held = (await Promise.all(Array.from({ length: max }, () => turns.take('viewer', waitMs)))).map((end) => end!);
      const started = Date.now();
      const waiting = Array.from({ length: waiters }, () => turns.take('viewer', waitMs));
      // Every 20 ms a stalled turn ends (worked = false) and the next in line takes it, stalled too.
      const ends = [...held];
      const stalls = setInterval(() => ends.shift()?.(false), 20);
      const outcomes = await Promise.all(
        waiting.map(async (turn) => {
          const end = await turn;
          if (end) ends.push(end);
          return end ? 'ran' : 'gave up';
        }),
      );
      clearInterval(stalls);
      // Every waiter got a turn or gave up within about one wait, however many stalls passed the
      // turn on (had each stall restarted the wait, twelve waiters would wait 240 ms).
      expect(Date.now() - started).toBeLessThan(waitMs + 80);
      expect(outcomes.length).toBe(waiters);
      for (const end of ends) end(false);
      expect(turns.load('viewer')).toEqual({ running: 0, waiting: 0 });
    }),
    { numRuns: 20 },
  );
});
