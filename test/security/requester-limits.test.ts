/**
 * The one accounting of what a requester may hold (src/limits/): held resources never exceed their
 * bound per key and come back exactly once; per-minute windows shared through PostgreSQL hold
 * across any number of processes; refusals have one shape; client-supplied names become bounded
 * labels and log fields (src/common/client-names.ts).
 */
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { clientNameForLog, clientNameLabels, MAX_NAME_LABELS, MAX_NAME_LENGTH } from '../../src/common/client-names';
import { LimitExceeded, limitRefusal, limitRefusalBody, Release, RequesterLimits } from '../../src/limits/requester-limits';
import { postgresWindows } from '../../src/limits/shared-windows';
import { testDatabaseUrl } from '../harness';

describe('RequesterLimits.hold', () => {
  const limit = { variable: 'HUB_TEST_MAX_HELD', max: 5, what: 'things' };
  const step = fc.oneof(
    fc.record({ op: fc.constant('hold' as const), key: fc.constantFrom('viewer:a', 'viewer:b', 'address:1'), amount: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant('release' as const), index: fc.nat(), twice: fc.boolean() }),
  );

  it('never lets a key hold more than max, refuses without taking, and counts each release once (model-based)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const refused: string[] = [];
        const limits = new RequesterLimits({ onRefusal: (l) => refused.push(l) });
        const model = new Map<string, number>();
        const open: { key: string; amount: number; release: Release; done: boolean }[] = [];
        let refusals = 0;
        for (const s of steps) {
          if (s.op === 'hold') {
            const before = model.get(s.key) ?? 0;
            try {
              const release = limits.hold(limit, s.key, s.amount);
              expect(before + s.amount).toBeLessThanOrEqual(limit.max);
              model.set(s.key, before + s.amount);
              open.push({ key: s.key, amount: s.amount, release, done: false });
            } catch (error) {
              expect(error).toBeInstanceOf(LimitExceeded);
              expect((error as LimitExceeded).limit).toBe(limit.variable);
              expect(before + s.amount).toBeGreaterThan(limit.max);
              refusals += 1;
            }
          } else if (open.length) {
            const entry = open[s.index % open.length];
            entry.release();
            if (s.twice) entry.release();
            if (!entry.done) model.set(entry.key, (model.get(entry.key) ?? 0) - entry.amount);
            entry.done = true;
          }
          for (const key of ['viewer:a', 'viewer:b', 'address:1']) expect(limits.held(limit.variable, key)).toBe(model.get(key) ?? 0);
        }
        expect(refused).toEqual(Array(refusals).fill(limit.variable));
      }),
      { numRuns: 300 },
    );
  });
});

describe('RequesterLimits.charge with windows shared through PostgreSQL', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = createDataSource({ url: testDatabaseUrl(), poolSize: 2 });
    await ds.initialize();
  });
  afterAll(() => ds?.destroy());

  it('gives a key perMinute units a minute in all, however they are spread over processes and charges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(fc.record({ process: fc.nat({ max: 2 }), dt: fc.integer({ min: 0, max: 15_000 }), amount: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })) }), { maxLength: 30 }), async (perMinute, charges) => {
        const problems: unknown[] = [];
        const processes = [0, 1, 2].map(() => new RequesterLimits({ shared: postgresWindows(ds), onProblem: (_m, error) => problems.push(error) }));
        const spec = { variable: `HUB_TEST_RATE_${Math.random().toString(36).slice(2)}`, perMinute, what: 'charges' };
        let now = 1_800_000_000_000;
        const accepted: number[] = [];
        for (const { process, dt, amount } of charges) {
          now += dt;
          try {
            await processes[process].charge(spec, 'viewer:x', { now, amount });
            for (let k = 0; k < Math.min(amount, perMinute); k += 1) accepted.push(now);
          } catch (error) {
            expect(error).toBeInstanceOf(LimitExceeded);
            const { retryAfterSeconds } = error as LimitExceeded;
            expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
            expect(retryAfterSeconds).toBeLessThanOrEqual(60);
            // Refused only when the charge does not fit: more than perMinute within the last minute with it.
            expect(accepted.filter((t) => now - t < 60_000).length + Math.min(amount, perMinute)).toBeGreaterThan(perMinute);
          }
        }
        // Fixed windows: never more than perMinute in one window, so never 2 × perMinute in any minute.
        for (const t of accepted) expect(accepted.filter((u) => u >= t && u - t < 60_000).length).toBeLessThanOrEqual(2 * perMinute);
        expect(problems).toEqual([]);
        await ds.query(`DELETE FROM hub_requester_windows WHERE limit_name = $1`, [spec.variable]);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps a limit's windows whatever clock another limit's charges carry (their sweeps included)", async () => {
    // The other process: one connection, so its sweep (sent after its charge) ends before the check.
    const other = createDataSource({ url: testDatabaseUrl(), poolSize: 1 });
    await other.initialize();
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: -10 * 365 * 86_400_000, max: 10 * 365 * 86_400_000 }), fc.boolean(), async (skew, sameKey) => {
          const mine = { variable: `HUB_TEST_KEPT_${Math.random().toString(36).slice(2)}`, perMinute: 2, what: 'charges' };
          const theirs = { variable: `HUB_TEST_SKEWED_${Math.random().toString(36).slice(2)}`, perMinute: 2, what: 'charges' };
          const now = Date.now();
          const limits = new RequesterLimits({ shared: postgresWindows(ds) });
          await limits.charge(mine, 'viewer:k', { now });
          await limits.charge(mine, 'viewer:k', { now });
          await new RequesterLimits({ shared: postgresWindows(other) }).charge(theirs, sameKey ? 'viewer:k' : 'viewer:s', { now: now + skew });
          await other.query('SELECT 1');
          // A third process, with no copy of its own: only the shared window can refuse.
          await expect(new RequesterLimits({ shared: postgresWindows(ds) }).charge(mine, 'viewer:k', { now })).rejects.toBeInstanceOf(LimitExceeded);
          await ds.query(`DELETE FROM hub_requester_windows WHERE limit_name = ANY($1)`, [[mine.variable, theirs.variable]]);
        }),
        { numRuns: 25 },
      );
    } finally {
      await other.destroy();
    }
  });

  it('falls back to the process window when the shared one is unreachable, and says so', async () => {
    const problems: string[] = [];
    const limits = new RequesterLimits({ shared: { charge: () => Promise.reject(new Error('down')) }, onProblem: (m) => problems.push(m) });
    const spec = { variable: 'HUB_TEST_DOWN', perMinute: 2, what: 'charges' };
    await limits.charge(spec, 'viewer:y');
    await limits.charge(spec, 'viewer:y');
    await expect(limits.charge(spec, 'viewer:y')).rejects.toBeInstanceOf(LimitExceeded);
    expect(problems).toHaveLength(2);
  });
});

describe('refusals', () => {
  it('have one shape: BAD_USER_INPUT, 429, extensions.limit, retry-after only when waiting helps', () => {
    fc.assert(
      fc.property(fc.constantFrom('HUB_A', 'HUB_B'), fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }), (limit, seconds) => {
        const error = new LimitExceeded(limit, 'over', 'SOME_REASON', seconds);
        const graphql = limitRefusal(error, 'query');
        expect(graphql.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit, reason: 'SOME_REASON', validation: [{ field: 'query', message: 'over' }] });
        const http = graphql.extensions.http as { status: number; headers?: Map<string, string> };
        expect(http.status).toBe(429);
        expect(http.headers?.get('retry-after')).toBe(seconds === undefined ? undefined : String(seconds));
        const plain = limitRefusalBody(error);
        expect(plain.status).toBe(429);
        expect(plain.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit });
        expect(plain.headers['retry-after']).toBe(seconds === undefined ? undefined : String(seconds));
      }),
    );
  });
});

describe('client-supplied names', () => {
  it('become labels bounded in length and number, and log fields bounded in length', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constant(undefined), fc.integer())), { maxLength: 400 }), (names) => {
        const label = clientNameLabels();
        const labels = new Set(names.map(([executed, name]) => label(executed, name)));
        expect(labels.size).toBeLessThanOrEqual(MAX_NAME_LABELS + 3);
        for (const l of labels) expect(Array.from(l).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
        for (const [executed, name] of names) {
          if (!executed) expect(label(executed, name)).toBe('rejected');
          expect(Array.from(clientNameForLog(name)).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
        }
      }),
    );
  });
});
